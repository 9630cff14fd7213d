"""Local read model of supply points, kept by every service that needs
reference data owned by portfolio (published on portfolio.supply-points.v1)."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Connection, Date, Integer, MetaData, String, Table, select

from shared import db
from shared.contracts.events import SupplyPointChanged


def supply_points_table(metadata: MetaData, service: str, **options) -> Table:
    """``options``: Table keyword arguments (ingest's: sqlite_with_rowid=False)."""
    return Table(
        f"{service}_supply_points", metadata,
        Column("mpxn", String(13), primary_key=True),
        Column("revision", Integer, nullable=False),
        Column("fuel", String(12), nullable=False),
        Column("site_id", String(64), nullable=False),
        Column("site_name", String(200), nullable=False),
        Column("account_id", String(64), nullable=False),
        Column("customer_id", String(64), nullable=False),
        Column("meter_type", String(8), nullable=False),
        Column("profile_class", String(2)),
        Column("settlement", String(3), nullable=False),
        Column("ldz", String(2)),
        Column("micro_business", Boolean, nullable=False),
        Column("enrolment_status", String(40), nullable=False),
        Column("opt_out_window_ends", Date),
        Column("active", Boolean, nullable=False),
        Column("registered_on", Date),
        **options,
    )


def apply(conn: Connection, table: Table, events: list[SupplyPointChanged]) -> None:
    """Keep the highest revision of each supply point (idempotent, order-proof)."""
    rows = {}
    for e in events:
        if e.mpxn not in rows or rows[e.mpxn]["revision"] < e.revision:
            rows[e.mpxn] = {c.name: getattr(e, c.name) for c in table.columns}
    columns = [c.name for c in table.columns if c.name != "mpxn"]
    db.upsert(conn, table, list(rows.values()), keys=["mpxn"], update=columns, newer_than="revision")


def lookup(conn: Connection, table: Table, mpxns: list[str]) -> dict[str, dict]:
    rows = conn.execute(select(table).where(table.c.mpxn.in_(mpxns))).mappings()
    return {r["mpxn"]: dict(r) for r in rows}
