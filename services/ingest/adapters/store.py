"""Ingest's data access: the supply-point read model, meter-day versions,
rejections, register reads, meter statistics and batches."""
from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timezone
from operator import itemgetter

from sqlalchemy import Connection, delete, func, select, text, update

from services.ingest.adapters import tables as t
from services.ingest.domain.validation import MeterHistory, SupplyPointInfo
from services.ingest.domain.versioning import ExistingVersion
from shared import db, readmodel
from shared.contracts.events import SupplyPointChanged

_SUPPLY_POINT_COLUMNS = SupplyPointInfo._fields


def supply_points_and_histories(conn: Connection, mpxns: Collection[str]
                                ) -> tuple[dict[str, SupplyPointInfo], dict[str, MeterHistory]]:
    """The known supply points among these MPxNs, and the running summaries of
    their meters' values, in one query (one pass over the MPxNs, not two)."""
    sp, st = t.supply_points.c, t.meter_stats.c
    rows = db.plain_rows(conn, select(*(sp[name] for name in _SUPPLY_POINT_COLUMNS), st.days, st.p95_period_kwh)
                         .select_from(t.supply_points.outerjoin(t.meter_stats, st.mpxn == sp.mpxn))
                         .where(db.any_of(conn, sp.mpxn, mpxns)))  # ``active`` may be 0 or 1: validation takes its truth
    points = {r[0]: SupplyPointInfo(*r[:-2]) for r in rows}
    return points, {r[0]: MeterHistory(r[-2], r[-1]) for r in rows if r[-2] is not None}


def apply_supply_points(conn: Connection, events: list[SupplyPointChanged]) -> int:
    """Keep the read model, and purge the meter-day versions and statistics of
    supply points whose customer opted out of HH data (within their opt-out
    window): the audit trail of versions does not outlive the opt-out. Returns
    the versions purged."""
    readmodel.apply(conn, t.supply_points, events)
    named = {e.mpxn for e in events if e.enrolment_status == "opted_out"}
    if not named:
        return 0
    sp = t.supply_points.c
    opted_out = conn.execute(select(sp.mpxn).where(db.any_of(conn, sp.mpxn, named),
                                                   sp.enrolment_status == "opted_out")).scalars().all()
    if not opted_out:
        return 0
    conn.execute(delete(t.meter_stats).where(db.any_of(conn, t.meter_stats.c.mpxn, opted_out)))
    return conn.execute(delete(t.meter_days).where(db.any_of(conn, t.meter_days.c.mpxn, opted_out))).rowcount


def lock_meter_days(conn: Connection) -> None:
    """Serialise version decisions across ingest processes for this transaction
    (PostgreSQL; a SQLite database has one writer at a time anyway)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('ingest_meter_days'))"))


def existing_versions(conn: Connection, keys: Collection[tuple[str, date]]
                      ) -> tuple[dict[tuple[str, date], list[ExistingVersion]], dict[tuple[str, date], int]]:
    """The stored versions of these meter-days, and the ``seq`` of each one's current
    version. Filters on the meters and the dates separately (both bound as single
    arrays, served by the unique key) and drops the few rows of other combinations
    here, which is far cheaper than a tuple IN."""
    versions: dict[tuple[str, date], list[ExistingVersion]] = {}
    current: dict[tuple[str, date], int] = {}
    if not keys:
        return versions, current
    c = t.meter_days.c
    rows = conn.execute(
        select(c.mpxn, c.settlement_date, c.version, c.content_hash, c.source_timestamp, c.seq, c.current)
        .where(db.any_of(conn, c.mpxn, {m for m, _ in keys}), db.any_of(conn, c.settlement_date, {d for _, d in keys}))
    )
    wanted = keys if isinstance(keys, (set, frozenset, dict)) else set(keys)
    for mpxn, day, version, digest, stamp, seq, is_current in rows.all():
        if (mpxn, day) in wanted:
            versions.setdefault((mpxn, day), []).append((version, digest, aware(stamp)))
            if is_current:
                current[mpxn, day] = seq
    return versions, current


def aware(ts: datetime) -> datetime:
    """SQLite returns naive datetimes; every timestamp stored here is UTC."""
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def save_histories(conn: Connection, stats: dict[str, MeterHistory]) -> None:
    """In key order, as :func:`insert_versions`: half the time of file order on SQLite."""
    db.bulk_upsert(conn, t.meter_stats, ("mpxn", "days", "p95_period_kwh"),
                   sorted((m, h.days, h.p95_period_kwh) for m, h in stats.items()), keys=["mpxn"],
                   update=["days", "p95_period_kwh"])


VERSION_COLUMNS = ("mpxn", "settlement_date", "version", "fuel", "content_hash", "source_timestamp", "batch_id",
                   "row_number", "kwh", "quality", "source_unit", "flags", "received_at", "current")


def insert_versions(conn: Connection, rows: list[tuple]) -> None:
    """Rows are tuples in VERSION_COLUMNS order. Inserted in key order: B-tree
    appends are cheaper than inserts at random places."""
    db.bulk_insert(conn, t.meter_days, VERSION_COLUMNS, sorted(rows, key=itemgetter(1, 0, 2)))


def retire_current(conn: Connection, seqs: list[int]) -> None:
    """Mark these versions (the previous current ones of revised meter-days) as no longer current."""
    if seqs:
        conn.execute(update(t.meter_days).where(db.any_of(conn, t.meter_days.c.seq, seqs)).values(current=False))


REJECTION_COLUMNS = ("batch_id", "row_number", "mpxn", "settlement_date", "reason_code", "reason")


def insert_rejections(conn: Connection, rows: list[tuple]) -> None:
    """Rows are tuples in REJECTION_COLUMNS order."""
    db.bulk_insert(conn, t.rejections, REJECTION_COLUMNS, rows)


def upsert_register_reads(conn: Connection, rows: list[dict]) -> None:
    db.upsert(conn, t.register_reads, rows, keys=["mpxn", "read_date", "read_type"],
              update=["register_value", "unit", "batch_id", "received_at"])


def create_batch(conn: Connection, row: dict) -> None:
    conn.execute(t.batches.insert().values(**row))


def update_batch(conn: Connection, batch_id: str, **values) -> None:
    conn.execute(update(t.batches).where(t.batches.c.id == batch_id).values(**values))


def batch(conn: Connection, batch_id: str):
    return conn.execute(select(t.batches).where(t.batches.c.id == batch_id)).mappings().first()


def rejections(conn: Connection, batch_id: str, limit: int, offset: int) -> list:
    c = t.rejections.c
    return conn.execute(
        select(c.row_number, c.mpxn, c.settlement_date, c.reason_code, c.reason)
        .where(c.batch_id == batch_id).order_by(c.id).limit(limit).offset(offset)
    ).mappings().all()


def counts(conn: Connection) -> dict[str, int]:
    def n(table, *where) -> int:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()

    return {
        "supply_points": n(t.supply_points),
        "batches": n(t.batches),
        "meter_days_current": n(t.meter_days, t.meter_days.c.current),
        "meter_day_versions": n(t.meter_days),
        "rejections": n(t.rejections),
        "register_reads": n(t.register_reads),
    }
