"""Alerts' data access."""
from __future__ import annotations

import math

from sqlalchemy import Connection, func, select

from services.alerts.adapters import tables as t
from shared import db
from shared.contracts.events import MeterDayRead


def store_daily_usage(conn: Connection, reads: list[MeterDayRead]) -> None:
    """Idempotent: the highest version of each meter-day wins."""
    rows = {}
    for r in reads:
        present = [v for v in r.kwh if v is not None and not math.isnan(v)]
        row = {"mpxn": r.mpxn, "settlement_date": r.settlement_date, "version": r.version, "kwh": sum(present),
               "periods_present": len(present), "periods_expected": len(r.kwh)}
        key = (r.mpxn, r.settlement_date)
        if key not in rows or rows[key]["version"] < r.version:
            rows[key] = row
    db.upsert(conn, t.daily_usage, list(rows.values()), keys=["mpxn", "settlement_date"],
              update=["version", "kwh", "periods_present", "periods_expected"], newer_than="version")


def counts(conn: Connection) -> dict[str, int]:
    return {
        "meter_days": conn.execute(select(func.count()).select_from(t.daily_usage)).scalar_one(),
        "supply_points": conn.execute(select(func.count()).select_from(t.supply_points)).scalar_one(),
        "notifications": conn.execute(select(func.count()).select_from(t.notifications)).scalar_one(),
    }


def tracker_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(t.trackers)).scalar_one()
