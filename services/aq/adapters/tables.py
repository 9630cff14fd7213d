"""AQ's own tables."""
from sqlalchemy import (
    BigInteger, Boolean, Column, Date, DateTime, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint,
)

from shared.outbox import outbox_table
from shared.readmodel import supply_points_table

metadata = MetaData()

supply_points = supply_points_table(metadata, "aq")

# Daily gas energy per meter point from HH reads: the metered energy E of the AQ formula.
gas_days = Table(
    "aq_gas_days", metadata,
    Column("mprn", String(10), primary_key=True),
    Column("gas_day", Date, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("kwh", Float, nullable=False),
    Column("periods_present", Integer, nullable=False),
    Column("periods_expected", Integer, nullable=False),
)

# One row per supply meter point: the calendar state (a serialised SupplyMeterPoint)
# and the last business day it was stepped through, written in one transaction.
meter_points = Table(
    "aq_meter_points", metadata,
    Column("mprn", String(10), primary_key=True),
    Column("source", String(16), nullable=False),  # "ops" (loaded by operations) or "supply_point" (defaults)
    Column("active", Boolean, nullable=False),
    Column("state", Text, nullable=False),
    Column("processed_through", Date),
    Column("hh_chain", Text),
    Column("lock_version", Integer, nullable=False),  # optimistic lock between the worker and the API
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Gas register (index) reads; ``offered`` once the calendar has seen the current value.
register_reads = Table(
    "aq_register_reads", metadata,
    Column("mprn", String(10), primary_key=True),
    Column("read_date", Date, primary_key=True),
    Column("read_type", String(12), nullable=False),
    Column("index_value", Float, nullable=False),
    Column("unit", String(4), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("offered", Boolean, nullable=False),
)

# Every calculation, failure, correction decision, snapshot and notification, with reason and effective date.
history = Table(
    "aq_history", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(200), nullable=False),
    Column("mprn", String(10), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("effective_from", Date),
    Column("aq_kwh", Float),
    Column("previous_aq_kwh", Float),
    Column("formula_year_aq_kwh", Float),
    Column("soq_kwh", Float),
    Column("euc", String(8)),
    Column("confirmation", String(2)),
    Column("meter_class", Integer),
    Column("winter_consumption_kwh", Float),
    Column("reason_code", String(64)),
    Column("read_start", Date),
    Column("read_end", Date),
    UniqueConstraint("event_id", name="uq_aq_history_event_id"),
    Index("ix_aq_history_mprn", "mprn", "id"),
    Index("ix_aq_history_kind_date", "kind", "business_date"),
)

corrections = Table(
    "aq_corrections", metadata,
    Column("correction_id", String(64), primary_key=True),
    Column("mprn", String(10), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("aq_kwh", Float, nullable=False),
    Column("submitted_on", Date, nullable=False),
    Column("submitted_by", String(200), nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("reason_code", String(64), nullable=False),
    Column("effective_from", Date),
)

# The business clock as advanced by operations; never moves backwards.
clock = Table(
    "aq_clock", metadata,
    Column("id", Integer, primary_key=True),
    Column("business_date", Date, nullable=False),
)

# Read model of portfolio.accounts.v1: who may see which account's meter points.
accounts = Table(
    "aq_accounts", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("revision", Integer, nullable=False),
)
account_users = Table(
    "aq_account_users", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("user_id", String(64), primary_key=True),
)

# Reference data loaded by operations from the published layouts; overlays the synthetic set.
alp_daf = Table(
    "aq_alp_daf", metadata,
    Column("ldz", String(2), primary_key=True),
    Column("euc", String(4), primary_key=True),
    Column("gas_day", Date, primary_key=True),
    Column("alp", Float, nullable=False),
    Column("daf", Float, nullable=False),
)
weather = Table(
    "aq_weather", metadata,
    Column("kind", String(6), primary_key=True),  # "normal" or "actual"
    Column("ldz", String(2), primary_key=True),
    Column("gas_day", Date, primary_key=True),
    Column("cwv", Float, nullable=False),
)

outbox = outbox_table(metadata, "aq")
