"""drop the meter-day indexes no query uses

Every version insert paid for two extra B-trees (batch id, current) that no
query reads: meter-days are found by their primary key.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 12:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_ingest_meter_days_current', table_name='ingest_meter_days')
    op.drop_index('ix_ingest_meter_days_batch_id', table_name='ingest_meter_days')


def downgrade() -> None:
    op.create_index('ix_ingest_meter_days_batch_id', 'ingest_meter_days', ['batch_id'], unique=False)
    op.create_index('ix_ingest_meter_days_current', 'ingest_meter_days', ['mpxn', 'current', 'settlement_date'],
                    unique=False)
