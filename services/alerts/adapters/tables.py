"""Alerts' own tables."""
from sqlalchemy import Column, Date, DateTime, Float, Integer, MetaData, String, Table, Text

from shared.outbox import outbox_table
from shared.readmodel import supply_points_table

metadata = MetaData()

supply_points = supply_points_table(metadata, "alerts")

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

# The durable idempotency store and in-app inbox: one row per notification id.
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
)

outbox = outbox_table(metadata, "alerts")
