"""Alerts' own tables."""
from sqlalchemy import (
    Boolean, Column, Date, DateTime, Float, Integer, MetaData, Numeric, String, Table, Text, UniqueConstraint,
)

from shared.outbox import outbox_table
from shared.readmodel import supply_points_table

metadata = MetaData()

supply_points = supply_points_table(metadata, "alerts")

# Read model of portfolio.accounts.v1: the latest revision of each account.
accounts = Table(
    "alerts_accounts", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("customer_name", String(200), nullable=False),
    Column("account_name", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("has_modelled_rates", Boolean, nullable=False),
    Column("budget_billing", Boolean, nullable=False),
    Column("bill_cycle_day", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("unit_rate_per_kwh", Float),
    Column("standing_charge_per_day", Float),
)

# Who may see an account (replaced with each newer account revision).
account_users = Table(
    "alerts_account_users", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("user_id", String(64), primary_key=True, index=True),
    Column("email", String(254), nullable=False),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
)

# Read model of portfolio.groups.v1 and its members (replaced with each newer revision).
groups = Table(
    "alerts_groups", metadata,
    Column("group_id", String(64), primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("owner_user_id", String(64), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("deleted", Boolean, nullable=False),
)

group_members = Table(
    "alerts_group_members", metadata,
    Column("group_id", String(64), primary_key=True),
    Column("mpxn", String(13), primary_key=True, index=True),
)

# Daily totals per supply point: what trackers and bill projections work from.
daily_usage = Table(
    "alerts_daily_usage", metadata,
    Column("mpxn", String(13), primary_key=True),
    Column("settlement_date", Date, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("kwh", Float, nullable=False),
    Column("periods_present", Integer, nullable=False),
    Column("periods_expected", Integer, nullable=False),
)

trackers = Table(
    "alerts_trackers", metadata,
    Column("tracker_id", String(40), primary_key=True),
    Column("owner_user_id", String(64), nullable=False, index=True),
    Column("owner_email", String(254), nullable=False),
    Column("owner_role", String(20), nullable=False),
    Column("name", String(120), nullable=False),
    Column("scope", String(10), nullable=False),
    Column("scope_id", String(64), nullable=False, index=True),
    Column("fuel", String(12), nullable=False),
    Column("period", String(10), nullable=False),
    Column("amount", Numeric(18, 4), nullable=False),
    Column("unit", String(8), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("custom_start", Date),
    Column("custom_end", Date),
    Column("paused", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The durable idempotency store and in-app inbox: one row per notification id,
# inserted if absent in the transaction that enqueues the Notification.
notifications = Table(
    "alerts_notifications", metadata,
    Column("notification_id", String(200), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("recipient", String(254), nullable=False, index=True),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("link", String(500)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),
    Column("channels", Text),
    Column("rule_id", String(120)),
    Column("period", String(40)),
    Column("sms", String(160)),
    Column("email", String(254)),
)

# One row per (notification, channel): a redelivered Notification never resends.
deliveries = Table(
    "alerts_deliveries", metadata,
    Column("notification_id", String(200), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("status", String(10), nullable=False, index=True),  # pending, sent, skipped, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", String(500)),
)

preferences = Table(
    "alerts_preferences", metadata,
    Column("user_id", String(64), primary_key=True),
    Column("channels", Text, nullable=False),
    Column("webhook_url", String(500)),
    Column("webhook_secret", String(100), nullable=False),
    Column("unsubscribed", Boolean, nullable=False),
    Column("unsubscribe_token", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("unsubscribe_token", name="uq_alerts_preferences_token"),
)

# Personal High Bill Alert thresholds, one per customer.
thresholds = Table(
    "alerts_thresholds", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("value", Numeric(18, 4), nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The latest High Bill decision per account and bill period, with its reason.
high_bill_decisions = Table(
    "alerts_high_bill_decisions", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("period_end", Date, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("alert", Boolean, nullable=False),
    Column("reason", String(40), nullable=False),
    Column("projected_usage", Float),
    Column("projected_cost", Float),
    Column("baseline_usage", Float),
    Column("baseline_cost", Float),
    Column("threshold_source", String(20)),
    Column("threshold_kind", String(10)),
    Column("threshold_value", Float),
    Column("read_coverage", Float, nullable=False),
    Column("rate_modelled_coverage", Float, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    # Weather adjustment of the days ahead (null when nothing was projected).
    Column("weather_factor", Float),
    Column("weather_note", String(40)),
)

outbox = outbox_table(metadata, "alerts")
