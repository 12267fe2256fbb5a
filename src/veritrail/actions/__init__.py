"""Every write of Veritrail, one transaction each."""

from veritrail.actions.declarations import (
    do_prefill_draft,
    do_reclassify,
    do_reclassify_annex,
    do_save_draft,
    do_submit_declaration,
)
from veritrail.store.context import Context

__all__ = [
    "Context",
    "do_prefill_draft",
    "do_reclassify",
    "do_reclassify_annex",
    "do_save_draft",
    "do_submit_declaration",
]
