"""the archive, the search outbox and background jobs

Archive documents (extracted text, mentions, classification; the original is a
blob), the outbox the search indexer reads, and the background job queue.
Existing declarations reach the search index when it is first built, which
happens on the first search or `veritrail search reindex`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import veritrail.store.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', veritrail.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', veritrail.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', veritrail.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', veritrail.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('worker', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_created_by'), ['created_by'], unique=False)
        batch_op.create_index('ix_jobs_state_created', ['state', 'created_at'], unique=False)

    op.create_table('search_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('record_type', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', veritrail.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_outbox'))
    )
    with op.batch_alter_table('search_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_outbox_created_at'), ['created_at'], unique=False)

    op.create_table('archive_documents',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source_name', sa.String(length=255), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('ocr', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('page_languages', sa.JSON(), nullable=False),
    sa.Column('mentions', sa.JSON(), nullable=False),
    sa.Column('document_date', sa.String(length=10), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=300), nullable=True),
    sa.Column('owner_state', sa.String(length=3), nullable=True),
    sa.Column('regimes', sa.JSON(), nullable=False),
    sa.Column('classification', sa.String(length=20), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('ledger_index', sa.BigInteger(), nullable=True),
    sa.Column('imported_at', veritrail.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', veritrail.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_archive_documents_group_id_groups')),
    sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256'], name=op.f('fk_archive_documents_sha256_blobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_documents')),
    sa.UniqueConstraint('sha256', name=op.f('uq_archive_documents_sha256'))
    )
    with op.batch_alter_table('archive_documents', schema=None) as batch_op:
        batch_op.create_index('ix_archive_documents_classification', ['classification', 'imported_at', 'id'], unique=False)
        batch_op.create_index('ix_archive_documents_owner', ['owner_state', 'imported_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_documents_year'), ['year'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('archive_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_documents_year'))
        batch_op.drop_index('ix_archive_documents_owner')
        batch_op.drop_index('ix_archive_documents_classification')

    op.drop_table('archive_documents')
    with op.batch_alter_table('search_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_outbox_created_at'))

    op.drop_table('search_outbox')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_state_created')
        batch_op.drop_index(batch_op.f('ix_jobs_created_by'))

    op.drop_table('jobs')
