"""The demo world and plausible documents for any declaration type."""

from veritrail.demo.fake import Site, fake_document, fake_value
from veritrail.demo.world import DEMO_PASSWORD, DEMO_USERS, DemoSummary, load_demo

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_USERS",
    "DemoSummary",
    "Site",
    "fake_document",
    "fake_value",
    "load_demo",
]
