"""Ingest's own tables: batches, every meter-day version (kept for audit),
rejections, register reads, the outbox, the relay's place in the versions and
the supply-point read model."""
from sqlalchemy import (
    BigInteger, Boolean, Column, Date, DateTime, Float, Integer, LargeBinary, MetaData, String, Table, Text,
    UniqueConstraint,
)

from shared.outbox import outbox_table
from shared.readmodel import supply_points_table

metadata = MetaData()

# Ingest looks up 10,000 supply points and meter statistics per stored chunk: on
# SQLite, a table WITHOUT ROWID finds a row in one B-tree, not an index then the
# table (the lookups took 30-40% less time; migration 0006).
supply_points = supply_points_table(metadata, "ingest", sqlite_with_rowid=False)

batches = Table(
    "ingest_batches", metadata,
    Column("id", String(36), primary_key=True),
    Column("filename", String(300), nullable=False),
    Column("source", String(20), nullable=False),
    Column("profile", String(100)),
    Column("sha256", String(64), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
    Column("status", String(20), nullable=False),
    Column("detected", Text),
    Column("error", Text),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("accepted", Integer, nullable=False, default=0),
    Column("revised", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("superseded", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("flagged", Integer, nullable=False, default=0),
    Column("register_reads", Integer, nullable=False, default=0),
)

# Every version of every meter-day; ``current`` marks the one consumers hold.
# ``seq`` numbers versions in the order they were stored, and is never reused
# (AUTOINCREMENT on SQLite: an opt-out purge may delete the newest rows): the relay
# publishes current versions in ``seq`` order after the last one it published.
meter_days = Table(
    "ingest_meter_days", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("mpxn", String(13), nullable=False),
    Column("settlement_date", Date, nullable=False),
    Column("version", Integer, nullable=False),
    Column("current", Boolean, nullable=False),
    Column("fuel", String(11), nullable=False),  # the supply point's, for the event (no join to publish it)
    Column("content_hash", String(64), nullable=False),
    Column("source_timestamp", DateTime(timezone=True), nullable=False),
    Column("batch_id", String(36), nullable=False),
    Column("row_number", Integer),
    Column("kwh", LargeBinary, nullable=False),
    Column("quality", String(50), nullable=False),
    Column("source_unit", String(4), nullable=False),
    Column("flags", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("settlement_date", "mpxn", "version", name="uq_ingest_meter_days_version"),
    sqlite_autoincrement=True,
)

# A running summary of each meter's own values, for spike detection without
# re-reading its history on every file. Updated for every stored meter-day:
# on PostgreSQL its pages keep half their room free (migration 0004).
meter_stats = Table(
    "ingest_meter_stats", metadata,
    Column("mpxn", String(13), primary_key=True),
    Column("days", Integer, nullable=False),
    Column("p95_period_kwh", Float, nullable=False),
    sqlite_with_rowid=False,
)

rejections = Table(
    "ingest_rejections", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("batch_id", String(36), nullable=False, index=True),
    Column("row_number", Integer),
    Column("mpxn", String(13)),
    Column("settlement_date", Date),
    Column("reason_code", String(40), nullable=False),
    Column("reason", Text, nullable=False),
)

register_reads = Table(
    "ingest_register_reads", metadata,
    Column("mpxn", String(13), primary_key=True),
    Column("read_date", Date, primary_key=True),
    Column("read_type", String(10), primary_key=True),
    Column("register_value", Float, nullable=False),
    Column("unit", String(4), nullable=False),
    Column("batch_id", String(36), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata, "ingest")

# Accepted meter-days need no outbox of their own: the relay reads current versions
# of ingest_meter_days after the last ``seq`` it published, kept in this one row
# (adapters/publishing.py). The chunk transaction writes each meter-day once.
reads_published = Table(
    "ingest_reads_published", metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
)
