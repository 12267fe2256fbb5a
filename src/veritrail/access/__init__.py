"""Who is acting, and what they may do."""

from veritrail.access.actor import OPERATOR, Actor, Role

__all__ = ["OPERATOR", "Actor", "Role"]
