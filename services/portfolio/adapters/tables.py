"""Portfolio's own tables (SQLAlchemy Core). Nobody else reads them."""
from sqlalchemy import (
    BigInteger, Boolean, Column, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table,
    Text, UniqueConstraint,
)

from shared.outbox import outbox_table

metadata = MetaData()

customers = Table(
    "portfolio_customers", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("micro_business", Boolean, nullable=False, default=False),
)

accounts = Table(
    "portfolio_accounts", metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), ForeignKey("portfolio_customers.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("enrolment_notice_on", Date),
    Column("opt_out_window_ends", Date),
    Column("opted_out_on", Date),
    # Billing facts alerts needs (published on portfolio.accounts.v1).
    Column("active", Boolean, nullable=False, default=True, server_default="1"),
    Column("bill_cycle_day", Integer, nullable=False, default=1, server_default="1"),
    Column("has_modelled_rates", Boolean, nullable=False, default=False, server_default="0"),
    Column("budget_billing", Boolean, nullable=False, default=False, server_default="0"),
    Column("unit_rate_per_kwh", Float),
    Column("standing_charge_per_day", Float),
    # Revision of the last AccountChanged published and the hash of its content,
    # so an unchanged account is not re-published with a new revision.
    Column("revision", Integer, nullable=False, default=0, server_default="0"),
    Column("published_hash", String(64)),
)

sites = Table(
    "portfolio_sites", metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), ForeignKey("portfolio_accounts.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("postcode", String(12)),
    Column("weather_location", String(60)),
)

supply_points = Table(
    "portfolio_supply_points", metadata,
    Column("mpxn", String(13), primary_key=True),
    Column("site_id", String(64), ForeignKey("portfolio_sites.id"), nullable=False, index=True),
    Column("fuel", String(12), nullable=False),
    Column("meter_type", String(8), nullable=False),
    Column("profile_class", String(2)),
    Column("settlement", String(3), nullable=False),
    Column("ldz", String(2)),
    Column("active", Boolean, nullable=False, default=True),
    Column("registered_on", Date),
    Column("revision", Integer, nullable=False, default=1),
)

# The enrolment status last published for each supply point, so a status change
# (opt-out, contact details arriving) is re-published once.
published_points = Table(
    "portfolio_published_points", metadata,
    Column("mpxn", String(13), primary_key=True),
    Column("enrolment_status", String(40), nullable=False),
)

users = Table(
    "portfolio_users", metadata,
    Column("id", String(64), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(300)),
    Column("billing_portal_user", Boolean, nullable=False, default=False),
)

# Which accounts a user may see: customer users their own, brokers those they manage.
user_accounts = Table(
    "portfolio_user_accounts", metadata,
    Column("user_id", String(64), ForeignKey("portfolio_users.id"), primary_key=True),
    Column("account_id", String(64), ForeignKey("portfolio_accounts.id"), primary_key=True),
)

contacts = Table(
    "portfolio_contacts", metadata,
    Column("id", String(64), primary_key=True),
    Column("account_id", String(64), ForeignKey("portfolio_accounts.id"), nullable=False, index=True),
    Column("type", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(254)),
    Column("phone", String(40)),
)

groups = Table(
    "portfolio_groups", metadata,
    Column("id", String(64), primary_key=True),
    Column("owner_user_id", String(64), ForeignKey("portfolio_users.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("revision", Integer, nullable=False, default=1, server_default="1"),
    UniqueConstraint("owner_user_id", "name", name="uq_portfolio_group_name"),
)

group_sites = Table(
    "portfolio_group_sites", metadata,
    Column("group_id", String(64), ForeignKey("portfolio_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", String(64), ForeignKey("portfolio_sites.id"), primary_key=True),
)

# One row per supply point and settlement day: the values as a float64 array
# (NaN = missing), so a year of a site is 365 rows, not 17,520.
meter_days = Table(
    "portfolio_meter_days", metadata,
    Column("mpxn", String(13), primary_key=True),
    Column("settlement_date", Date, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("kwh", LargeBinary, nullable=False),
    Column("quality", String(50), nullable=False),
    Column("flags", Text, nullable=False, default=""),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# The read-optimised projection of meter_days (which stays the record of which
# version of each meter-day won): one row per supply point and local month, the
# periods of its days as one float64 array (see domain.consumption). A year of a
# 500-site portfolio is 6,000 rows instead of 182,500. ``stamp`` is a random
# number replaced on every write, so readers can tell whether a cached copy is
# current without fetching the array (the covering index answers that alone).
meter_months = Table(
    "portfolio_meter_months", metadata,
    Column("mpxn", String(13), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("stamp", BigInteger, nullable=False),
    Column("kwh", LargeBinary, nullable=False),
    Column("quality", Text, nullable=False),
)
Index("ix_portfolio_meter_months_stamp", meter_months.c.mpxn, meter_months.c.month, meter_months.c.stamp)

outbox = outbox_table(metadata, "portfolio")
