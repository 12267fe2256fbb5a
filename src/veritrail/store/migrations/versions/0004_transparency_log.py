"""the transparency log, signing keys and annex classifications

Log entries, tiles and checkpoints; audit rows point at their leaf; national
authorities' signing keys and the signature on each version; per-declaration
classification of confidential annexes.

Declaration versions stored before the log existed are committed to it here,
oldest first, so no record is left without an entry. Tiles and the first
checkpoint are built by the next integration (`veritrail db upgrade` runs one).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 09:00:00
"""
from alembic import op
import sqlalchemy as sa

from veritrail.ledger.envelope import Envelope


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ledger_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('integrated', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_state')),
    )
    op.create_table(
        'ledger_entries',
        sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('entry', sa.LargeBinary(), nullable=False),
        sa.Column('record_type', sa.String(length=64), nullable=False),
        sa.Column('record_id', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('idx', name=op.f('pk_ledger_entries')),
    )
    op.create_index(
        'ix_ledger_entries_record', 'ledger_entries', ['record_type', 'record_id', 'version']
    )
    op.create_table(
        'ledger_tiles',
        sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hashes', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('level', 'idx', name=op.f('pk_ledger_tiles')),
    )
    op.create_table(
        'ledger_checkpoints',
        sa.Column('size', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('root', sa.LargeBinary(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('size', name=op.f('pk_ledger_checkpoints')),
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ledger_index', sa.BigInteger(), nullable=True))
    op.create_table(
        'signing_keys',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=3), nullable=False),
        sa.Column('organisation_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('vkey', sa.String(length=400), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by', sa.String(length=100), nullable=True),
        sa.Column('replaced_by', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ['organisation_id'], ['organisations.id'],
            name=op.f('fk_signing_keys_organisation_id_organisations'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_keys')),
        sa.UniqueConstraint('vkey', name=op.f('uq_signing_keys_vkey')),
    )
    op.create_index(op.f('ix_signing_keys_state'), 'signing_keys', ['state'])
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('annex_classification', sa.JSON(), nullable=True))
    with op.batch_alter_table('declaration_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('signing_key_id', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_declaration_versions_signing_key_id_signing_keys'),
            'signing_keys', ['signing_key_id'], ['id'],
        )

    bind = op.get_bind()
    versions = bind.execute(
        sa.text(
            "SELECT v.declaration_id, v.version, v.content_sha256, v.original_sha256, "
            "v.submitted_at, coalesce(u.organisation_id, v.submitted_by) "
            "FROM declaration_versions v LEFT JOIN users u ON u.username = v.submitted_by "
            "ORDER BY v.submitted_at, v.id"
        )
    ).all()
    entries = []
    for index, (record_id, version, digest, original, at, organisation) in enumerate(versions):
        moment = veritrail_time(at)
        envelope = Envelope(
            record_type='declaration',
            record_id=record_id,
            version=version,
            content_sha256=digest,
            organisation=organisation,
            time=moment,
            files={'original': original} if original else {},
        )
        entries.append(
            {
                'idx': index,
                'entry': envelope.to_bytes(),
                'record_type': 'declaration',
                'record_id': record_id,
                'version': version,
            }
        )
    table = sa.table(
        'ledger_entries',
        sa.column('idx', sa.BigInteger()),
        sa.column('entry', sa.LargeBinary()),
        sa.column('record_type', sa.String()),
        sa.column('record_id', sa.String()),
        sa.column('version', sa.Integer()),
    )
    if entries:
        op.bulk_insert(table, entries)
    bind.execute(
        sa.text("INSERT INTO ledger_state (id, size, integrated) VALUES (1, :size, 0)"),
        {'size': len(entries)},
    )


def veritrail_time(value):
    """A stored timestamp as timezone-aware UTC (SQLite returns text or naive values)."""
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def downgrade() -> None:
    with op.batch_alter_table('declaration_versions', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_declaration_versions_signing_key_id_signing_keys'), type_='foreignkey'
        )
        batch_op.drop_column('signing_key_id')
        batch_op.drop_column('signature')
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_column('annex_classification')
    op.drop_index(op.f('ix_signing_keys_state'), table_name='signing_keys')
    op.drop_table('signing_keys')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('ledger_index')
    op.drop_table('ledger_checkpoints')
    op.drop_table('ledger_tiles')
    op.drop_index('ix_ledger_entries_record', table_name='ledger_entries')
    op.drop_table('ledger_entries')
    op.drop_table('ledger_state')
