"""Declarations: the canonical document, validation, intake formats, diffs and status."""
