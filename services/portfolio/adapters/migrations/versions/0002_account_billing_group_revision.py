"""account billing facts, publication revisions, group revisions

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_ACCOUNT_COLUMNS = (
    sa.Column('active', sa.Boolean(), nullable=False, server_default='1'),
    sa.Column('bill_cycle_day', sa.Integer(), nullable=False, server_default='1'),
    sa.Column('has_modelled_rates', sa.Boolean(), nullable=False, server_default='0'),
    sa.Column('budget_billing', sa.Boolean(), nullable=False, server_default='0'),
    sa.Column('unit_rate_per_kwh', sa.Float(), nullable=True),
    sa.Column('standing_charge_per_day', sa.Float(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('published_hash', sa.String(length=64), nullable=True),
)


def upgrade() -> None:
    with op.batch_alter_table('portfolio_accounts', schema=None) as batch_op:
        for column in _ACCOUNT_COLUMNS:
            batch_op.add_column(column)
    with op.batch_alter_table('portfolio_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False, server_default='1'))
    op.create_table('portfolio_published_points',
    sa.Column('mpxn', sa.String(length=13), nullable=False),
    sa.Column('enrolment_status', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('mpxn')
    )


def downgrade() -> None:
    op.drop_table('portfolio_published_points')
    with op.batch_alter_table('portfolio_groups', schema=None) as batch_op:
        batch_op.drop_column('revision')
    with op.batch_alter_table('portfolio_accounts', schema=None) as batch_op:
        for column in reversed(_ACCOUNT_COLUMNS):
            batch_op.drop_column(column.name)
