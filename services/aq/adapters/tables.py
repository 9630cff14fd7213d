"""AQ's own tables."""
from sqlalchemy import Column, Date, Float, Integer, MetaData, String, Table

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

outbox = outbox_table(metadata, "aq")
