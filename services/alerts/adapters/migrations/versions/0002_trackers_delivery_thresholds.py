"""trackers delivery thresholds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alerts_account_users',
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'user_id')
    )
    with op.batch_alter_table('alerts_account_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_account_users_user_id'), ['user_id'], unique=False)

    op.create_table('alerts_accounts',
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=False),
    sa.Column('account_name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('has_modelled_rates', sa.Boolean(), nullable=False),
    sa.Column('budget_billing', sa.Boolean(), nullable=False),
    sa.Column('bill_cycle_day', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('unit_rate_per_kwh', sa.Float(), nullable=True),
    sa.Column('standing_charge_per_day', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('account_id')
    )
    with op.batch_alter_table('alerts_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_accounts_customer_id'), ['customer_id'], unique=False)

    op.create_table('alerts_deliveries',
    sa.Column('notification_id', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('notification_id', 'channel')
    )
    with op.batch_alter_table('alerts_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_deliveries_status'), ['status'], unique=False)

    op.create_table('alerts_groups',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('owner_user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('group_id')
    )
    with op.batch_alter_table('alerts_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_groups_owner_user_id'), ['owner_user_id'], unique=False)

    op.create_table('alerts_group_members',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('mpxn', sa.String(length=13), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'mpxn')
    )
    with op.batch_alter_table('alerts_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_group_members_mpxn'), ['mpxn'], unique=False)

    op.create_table('alerts_high_bill_decisions',
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('alert', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('projected_usage', sa.Float(), nullable=True),
    sa.Column('projected_cost', sa.Float(), nullable=True),
    sa.Column('baseline_usage', sa.Float(), nullable=True),
    sa.Column('baseline_cost', sa.Float(), nullable=True),
    sa.Column('threshold_source', sa.String(length=20), nullable=True),
    sa.Column('threshold_kind', sa.String(length=10), nullable=True),
    sa.Column('threshold_value', sa.Float(), nullable=True),
    sa.Column('read_coverage', sa.Float(), nullable=False),
    sa.Column('rate_modelled_coverage', sa.Float(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'period_start')
    )
    op.create_table('alerts_preferences',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('channels', sa.Text(), nullable=False),
    sa.Column('webhook_url', sa.String(length=500), nullable=True),
    sa.Column('webhook_secret', sa.String(length=100), nullable=False),
    sa.Column('unsubscribed', sa.Boolean(), nullable=False),
    sa.Column('unsubscribe_token', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id'),
    sa.UniqueConstraint('unsubscribe_token', name='uq_alerts_preferences_token')
    )
    op.create_table('alerts_thresholds',
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('set_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('customer_id')
    )
    op.create_table('alerts_trackers',
    sa.Column('tracker_id', sa.String(length=40), nullable=False),
    sa.Column('owner_user_id', sa.String(length=64), nullable=False),
    sa.Column('owner_email', sa.String(length=254), nullable=False),
    sa.Column('owner_role', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('scope_id', sa.String(length=64), nullable=False),
    sa.Column('fuel', sa.String(length=12), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('custom_start', sa.Date(), nullable=True),
    sa.Column('custom_end', sa.Date(), nullable=True),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tracker_id')
    )
    with op.batch_alter_table('alerts_trackers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_trackers_owner_user_id'), ['owner_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_trackers_scope_id'), ['scope_id'], unique=False)

    with op.batch_alter_table('alerts_notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channels', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('rule_id', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('period', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('sms', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('alerts_notifications', schema=None) as batch_op:
        batch_op.drop_column('email')
        batch_op.drop_column('sms')
        batch_op.drop_column('period')
        batch_op.drop_column('rule_id')
        batch_op.drop_column('channels')

    with op.batch_alter_table('alerts_trackers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_trackers_scope_id'))
        batch_op.drop_index(batch_op.f('ix_alerts_trackers_owner_user_id'))

    op.drop_table('alerts_trackers')
    op.drop_table('alerts_thresholds')
    op.drop_table('alerts_preferences')
    op.drop_table('alerts_high_bill_decisions')
    with op.batch_alter_table('alerts_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_group_members_mpxn'))

    op.drop_table('alerts_group_members')
    with op.batch_alter_table('alerts_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_groups_owner_user_id'))

    op.drop_table('alerts_groups')
    with op.batch_alter_table('alerts_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_deliveries_status'))

    op.drop_table('alerts_deliveries')
    with op.batch_alter_table('alerts_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_accounts_customer_id'))

    op.drop_table('alerts_accounts')
    with op.batch_alter_table('alerts_account_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_account_users_user_id'))

    op.drop_table('alerts_account_users')
