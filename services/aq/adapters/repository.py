"""AQ's data access."""
from __future__ import annotations

from sqlalchemy import Connection, func, select

from services.aq.adapters import tables as t
from shared import db
from shared.contracts.events import MeterDayRead


def store_gas_days(conn: Connection, reads: list[MeterDayRead]) -> int:
    """Idempotent: the highest version of each gas day wins. Returns how many gas reads were offered."""
    rows = {}
    for r in reads:
        if r.fuel != "gas":
            continue
        present = [v for v in r.kwh if v is not None]
        key = (r.mpxn, r.settlement_date)
        if key not in rows or rows[key]["version"] < r.version:
            rows[key] = {"mprn": r.mpxn, "gas_day": r.settlement_date, "version": r.version, "kwh": sum(present),
                         "periods_present": len(present), "periods_expected": len(r.kwh)}
    db.upsert(conn, t.gas_days, list(rows.values()), keys=["mprn", "gas_day"],
              update=["version", "kwh", "periods_present", "periods_expected"], newer_than="version")
    return len(rows)


def counts(conn: Connection) -> dict[str, int]:
    return {
        "gas_days": conn.execute(select(func.count()).select_from(t.gas_days)).scalar_one(),
        "supply_points": conn.execute(select(func.count()).select_from(t.supply_points)).scalar_one(),
    }
