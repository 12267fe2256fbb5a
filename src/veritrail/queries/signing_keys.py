"""Reads of signing keys: a state's keys, and who signed the versions of a declaration."""

from __future__ import annotations

from sqlalchemy import select

from veritrail.access import Actor
from veritrail.access.policy import Action, Resource, can, require
from veritrail.declarations.models import DeclarationDetail
from veritrail.declarations.signatures import SignerPublic, SigningKeyPublic, key_public
from veritrail.errors import Forbidden, NotFound
from veritrail.store.context import Context
from veritrail.store.models import DeclarationVersion, SigningKey


def _reads_every_state(actor: Actor) -> bool:
    return can(actor, Action.SIGNING_KEY_READ, Resource(owner_state=None))


def list_signing_keys(
    ctx: Context, *, actor: Actor, state: str | None = None
) -> list[SigningKeyPublic]:
    """The keys the actor may see (a national authority: its own state's), newest first."""
    require(actor, Action.SIGNING_KEY_READ)
    query = select(SigningKey)
    if not _reads_every_state(actor):
        if actor.state is None or (state is not None and state != actor.state):
            raise Forbidden(
                f"you may only see the signing keys of {actor.state or 'your own state'}"
            )
        state = actor.state
    if state is not None:
        query = query.where(SigningKey.state == state)
    query = query.order_by(SigningKey.state, SigningKey.created_at.desc(), SigningKey.id)
    with ctx.sessions() as session:
        return [key_public(row) for row in session.scalars(query)]


def get_signing_key(ctx: Context, *, actor: Actor, key_id: str) -> SigningKeyPublic:
    """One key the actor may see; another state's is reported as absent."""
    require(actor, Action.SIGNING_KEY_READ)
    with ctx.sessions() as session:
        row = session.get(SigningKey, key_id)
        if row is None or not can(actor, Action.SIGNING_KEY_READ, Resource(owner_state=row.state)):
            raise NotFound(f"no signing key {key_id!r}")
        return key_public(row)


def version_signers(ctx: Context, detail: DeclarationDetail) -> dict[int, SignerPublic]:
    """Who signed each version of a declaration the reader obtained through the policy.

    Takes the :class:`DeclarationDetail` (read with ``declaration_detail``, which
    checked the reader's rights) rather than an id, so it reveals nothing more.
    """
    with ctx.sessions() as session:
        rows = session.execute(
            select(DeclarationVersion.version, SigningKey.id, SigningKey.name, SigningKey.state)
            .join(SigningKey, SigningKey.id == DeclarationVersion.signing_key_id)
            .where(DeclarationVersion.declaration_id == detail.id)
        ).all()
    return {
        version: SignerPublic(key_id=key_id, name=name, state=state)
        for version, key_id, name, state in rows
    }


__all__ = ["get_signing_key", "list_signing_keys", "version_signers"]
