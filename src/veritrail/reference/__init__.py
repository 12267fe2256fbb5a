"""Reference data about the world: states and their names."""

from veritrail.reference.states import State, all_states, by_alpha3, lookup

__all__ = ["State", "all_states", "by_alpha3", "lookup"]
