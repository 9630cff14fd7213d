"""Ingest's data access: the supply-point read model, meter-day versions,
rejections, register reads, meter statistics and batches."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timezone

from sqlalchemy import Connection, and_, func, select, tuple_, update

from services.ingest.adapters import tables as t
from services.ingest.domain.validation import MeterHistory, SupplyPointInfo
from services.ingest.domain.versioning import ExistingVersion
from shared import db, readmodel


def supply_point_infos(conn: Connection, mpxns: Iterable[str]) -> dict[str, SupplyPointInfo]:
    rows = readmodel.lookup(conn, t.supply_points, list(set(mpxns)))
    return {
        m: SupplyPointInfo(mpxn=m, fuel=r["fuel"], meter_type=r["meter_type"], profile_class=r["profile_class"],
                           settlement=r["settlement"], active=r["active"], enrolment_status=r["enrolment_status"],
                           opt_out_window_ends=r["opt_out_window_ends"])
        for m, r in rows.items()
    }


def existing_versions(conn: Connection, keys: set[tuple[str, date]]) -> dict[tuple[str, date], list[ExistingVersion]]:
    out: dict[tuple[str, date], list[ExistingVersion]] = {}
    if not keys:
        return out
    c = t.meter_days.c
    rows = conn.execute(
        select(c.mpxn, c.settlement_date, c.version, c.content_hash, c.source_timestamp)
        .where(tuple_(c.mpxn, c.settlement_date).in_(list(keys)))
    )
    for r in rows:
        out.setdefault((r.mpxn, r.settlement_date), []).append((r.version, r.content_hash, _aware(r.source_timestamp)))
    return out


def _aware(ts: datetime) -> datetime:
    """SQLite returns naive datetimes; every timestamp stored here is UTC."""
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def histories(conn: Connection, mpxns: Iterable[str]) -> dict[str, MeterHistory]:
    rows = conn.execute(select(t.meter_stats).where(t.meter_stats.c.mpxn.in_(list(set(mpxns)))))
    return {r.mpxn: MeterHistory(days=r.days, p95_period_kwh=r.p95_period_kwh) for r in rows}


def save_histories(conn: Connection, stats: dict[str, MeterHistory]) -> None:
    db.upsert(conn, t.meter_stats, [{"mpxn": m, "days": h.days, "p95_period_kwh": h.p95_period_kwh} for m, h in stats.items()],
              keys=["mpxn"], update=["days", "p95_period_kwh"])


def insert_versions(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(t.meter_days.insert(), rows)


def retire_current(conn: Connection, keys: list[tuple[str, date]]) -> None:
    """Mark the previous current versions of these meter-days as no longer current."""
    if keys:
        c = t.meter_days.c
        conn.execute(update(t.meter_days).where(and_(c.current, tuple_(c.mpxn, c.settlement_date).in_(keys))).values(current=False))


def insert_rejections(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(t.rejections.insert(), rows)


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
