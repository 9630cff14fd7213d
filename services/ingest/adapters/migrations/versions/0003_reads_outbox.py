"""the reads outbox: references to stored meter-day versions

Accepted meter-days are announced by a row naming the stored version; the relay
renders the event from it. Storing the event JSON as well wrote every
meter-day's values twice.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ingest_reads_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('mpxn', sa.String(length=13), nullable=False),
    sa.Column('settlement_date', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('fuel', sa.String(length=11), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('ingest_reads_outbox')
