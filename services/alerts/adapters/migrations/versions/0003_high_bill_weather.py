"""high bill decisions record the weather adjustment

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts_high_bill_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weather_factor', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('weather_note', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('alerts_high_bill_decisions', schema=None) as batch_op:
        batch_op.drop_column('weather_note')
        batch_op.drop_column('weather_factor')
