"""Pages of the web interface: the start page, and the routers of every other page.

National authorities start on their dashboard; secretariat users on the
overview of every state. Routers with fixed paths (``/declarations/new``)
come before the one with ``/declarations/{id}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from veritrail.access.policy import Action, Resource, can
from veritrail.actions import Context
from veritrail.api.deps import CtxDep
from veritrail.declarations.models import DeclarationPublic, ReportingStatus
from veritrail.declarations.status import Filed, type_status
from veritrail.queries import list_declarations
from veritrail.queries.cases import awaiting_answer
from veritrail.web import declarations, entry, overview, upload
from veritrail.web.common import current_period, lang, page, period_choices, state_name
from veritrail.web.deps import WebReferenceReader

router = APIRouter()


@dataclass
class Deadline:
    """One declaration type a state reports under, for one period."""

    regime: str
    regime_name: str
    type: str
    title: str
    reference: str
    due: date
    expected: bool
    status: ReportingStatus | None
    declarations: list[DeclarationPublic] = field(default_factory=list)

    @property
    def editable(self) -> DeclarationPublic | None:
        return self.declarations[0] if self.declarations else None


def deadlines(
    ctx: Context,
    state: str,
    period: int,
    mine: list[DeclarationPublic],
    language: str,
    now: datetime,
) -> list[Deadline]:
    """Every type of every regime ``state`` is party to, with its reporting status."""
    out: list[Deadline] = []
    for pack in ctx.registry.packs.values():
        if state not in pack.parties():
            continue
        for dtype in pack.types.values():
            filed = [
                d
                for d in mine
                if d.regime == pack.regime.id and d.type == dtype.id and d.period == period
            ]
            expected = dtype.expected == "every_party"
            status = None
            if expected or filed:
                status = type_status(
                    dtype,
                    period,
                    [Filed(d.type, d.first_submitted_at, d.nothing_to_declare) for d in filed],
                    now,
                )
            out.append(
                Deadline(
                    pack.regime.id,
                    pack.regime.short_name.get(language),
                    dtype.id,
                    dtype.title.get(language),
                    dtype.reference,
                    dtype.deadline.due(period),
                    expected,
                    status,
                    filed,
                )
            )
    return out


@router.get("/", include_in_schema=False)
def home(
    request: Request,
    ctx: CtxDep,
    actor: WebReferenceReader,
    period: Annotated[int | None, Query(ge=1946, le=2200)] = None,
) -> Response:
    """The national authority's dashboard; everyone else goes to the overview."""
    if not actor.is_national or actor.state is None:
        return RedirectResponse("/overview", status_code=303)
    language = lang(request)
    period = period or current_period()
    mine = list_declarations(ctx, actor=actor, state=actor.state, limit=1000)
    rows = deadlines(ctx, actor.state, period, mine, language, datetime.now(UTC))
    return page(
        request,
        "dashboard.html",
        {
            "period": period,
            "periods": period_choices(),
            "state_label": state_name(actor.state, language),
            "deadlines": rows,
            "expected": [d for d in rows if d.expected],
            "optional": [d for d in rows if not d.expected],
            "mine": mine,
            "may_submit": actor.may_submit_for(actor.state),
            "requests": len(awaiting_answer(ctx, actor=actor))
            if can(actor, Action.CASE_READ, Resource(owner_state=actor.state))
            else 0,
            "titles": {(d.regime, d.type): (d.regime_name, d.title) for d in rows},
        },
        actor=actor,
    )


# Fixed paths first: /declarations/new and /declarations/upload before /declarations/{id}.
router.include_router(entry.router)
router.include_router(upload.router)
router.include_router(overview.router)
router.include_router(declarations.router)

__all__ = ["Deadline", "deadlines", "router"]
