"""Declaration analysis: transfer reconciliation and the other checks.

The checks read what states submitted (and transfer lines imported from other
systems) and return findings; they write nothing. Opening and re-evaluating
discrepancy cases from findings is an action (``veritrail.actions.cases``).
"""
