"""AQ's data access: reads, meter point state, history, corrections, clock, accounts, reference rows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Iterable, Optional

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from services.aq.adapters import tables as t
from services.aq.adapters.codec import decode_chain, decode_point, encode_chain, encode_point
from services.aq.domain.calendar import Read, SupplyMeterPoint
from services.aq.domain.hh import HhChain
from services.aq.domain.reference import AlpDafRow
from shared import db
from shared.contracts.events import AccountChanged, MeterDayRead, RegisterRead

#: Cubic feet to cubic metres: ft3 indices are converted on arrival so the calendar sees m3 or kWh only.
M3_PER_FT3 = 0.028316846592
#: Read types that count as a valid read for the AQ (estimates never trigger a calculation).
VALID_READ_TYPES = ("actual", "customer")


class StaleState(RuntimeError):
    """Another transaction changed the meter point first; retry with fresh state."""


def _insert(conn: Connection, table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table)


# ----------------------------------------------------------------------------- reads


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


def gas_days_from(conn: Connection, mprn: str, start: Optional[date]) -> dict[date, Optional[float]]:
    """Daily energy from ``start`` (all when ``None``); ``None`` for a day with missing half-hours."""
    query = select(t.gas_days).where(t.gas_days.c.mprn == mprn)
    if start is not None:
        query = query.where(t.gas_days.c.gas_day >= start)
    return {r.gas_day: (r.kwh if r.periods_present == r.periods_expected else None) for r in conn.execute(query)}


def store_register_reads(conn: Connection, reads: list[RegisterRead]) -> int:
    """Upsert one read per (MPRN, read date); a changed read is offered to the calendar again,
    an identical redelivery changes nothing."""
    rows = {}
    for r in reads:
        value, unit = (r.register_value * M3_PER_FT3, "m3") if r.unit == "ft3" else (r.register_value, r.unit)
        rows[(r.mpxn, r.read_date)] = {"mprn": r.mpxn, "read_date": r.read_date, "read_type": r.read_type,
                                       "index_value": value, "unit": unit, "event_id": r.event_id, "offered": False}
    if rows:
        stmt = _insert(conn, t.register_reads)
        changed = ["read_type", "index_value", "unit"]
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[t.register_reads.c.mprn, t.register_reads.c.read_date],
            set_={c: stmt.excluded[c] for c in (*changed, "event_id", "offered")},
            where=or_(*[t.register_reads.c[c] != stmt.excluded[c] for c in changed]),
        ), list(rows.values()))
    return len(rows)


def unoffered_reads(conn: Connection, mprn: str, through: date) -> list[Read]:
    rows = conn.execute(select(t.register_reads).where(
        t.register_reads.c.mprn == mprn, t.register_reads.c.offered.is_(False),
        t.register_reads.c.read_date <= through, t.register_reads.c.read_type.in_(VALID_READ_TYPES),
    ).order_by(t.register_reads.c.read_date))
    return [Read(r.read_date, r.index_value, r.unit) for r in rows]


def mark_offered(conn: Connection, mprn: str, reads: list[Read]) -> None:
    """Mark these reads offered, as :func:`unoffered_reads` gave them: a read stored or
    changed since then stays unoffered for the next step (marking every read up to a
    date would also mark one a consumer committed while the calendar was stepping)."""
    if reads:
        c = t.register_reads.c
        conn.execute(update(t.register_reads).where(
            c.mprn == mprn, c.read_date == bindparam("day"), c.index_value == bindparam("index"),
            c.unit == bindparam("read_unit"), c.offered.is_(False)).values(offered=True),
            [{"day": r.read_date, "index": r.index, "read_unit": r.unit} for r in reads])


# ------------------------------------------------------------------------ meter points


@dataclass
class PointRecord:
    """A meter point's persisted calendar state, as loaded for one transaction."""

    mprn: str
    source: str
    active: bool
    state: SupplyMeterPoint
    processed_through: date
    chain: HhChain
    lock_version: int  # 0 = not stored yet


def load_point(conn: Connection, mprn: str) -> Optional[PointRecord]:
    row = conn.execute(select(t.meter_points).where(t.meter_points.c.mprn == mprn)).first()
    if row is None:
        return None
    return PointRecord(row.mprn, row.source, row.active, decode_point(row.state), row.processed_through,
                       decode_chain(row.hh_chain), row.lock_version)


def save_point(conn: Connection, record: PointRecord) -> None:
    """Insert or update with an optimistic lock: a concurrent writer makes this raise ``StaleState``."""
    values = {"source": record.source, "active": record.active, "state": encode_point(record.state),
              "processed_through": record.processed_through, "hh_chain": encode_chain(record.chain),
              "lock_version": record.lock_version + 1, "updated_at": datetime.now(timezone.utc)}
    if record.lock_version == 0:
        conn.execute(insert(t.meter_points).values(mprn=record.mprn, **values))
    else:
        done = conn.execute(update(t.meter_points).where(
            t.meter_points.c.mprn == record.mprn, t.meter_points.c.lock_version == record.lock_version,
        ).values(**values))
        if done.rowcount != 1:
            raise StaleState(record.mprn)
    record.lock_version += 1


def points_behind(conn: Connection, through: date, limit: int = 500) -> list[str]:
    return list(conn.execute(select(t.meter_points.c.mprn).where(
        t.meter_points.c.active.is_(True), t.meter_points.c.processed_through < through,
    ).order_by(t.meter_points.c.mprn).limit(limit)).scalars())


# ---------------------------------------------------------------------------- history


def insert_history(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(insert(t.history), rows)


def history(conn: Connection, mprn: str) -> list[dict]:
    rows = conn.execute(select(t.history).where(t.history.c.mprn == mprn).order_by(t.history.c.id)).mappings()
    return [dict(r) for r in rows]


def nrl_rows(conn: Connection, start: date, end: date) -> list[dict]:
    """T04 and TRF rows issued in [start, end), in issue then MPRN order."""
    rows = conn.execute(select(t.history).where(
        t.history.c.kind.in_(("T04", "TRF")), t.history.c.business_date >= start, t.history.c.business_date < end,
    ).order_by(t.history.c.business_date, t.history.c.mprn)).mappings()
    return [dict(r) for r in rows]


# ------------------------------------------------------------------------- corrections


def insert_correction(conn: Connection, row: dict) -> None:
    conn.execute(insert(t.corrections).values(**row))


def correction(conn: Connection, correction_id: str) -> Optional[dict]:
    row = conn.execute(select(t.corrections).where(t.corrections.c.correction_id == correction_id)).mappings().first()
    return dict(row) if row else None


# ------------------------------------------------------------------------------ clock


def stored_business_date(conn: Connection) -> Optional[date]:
    return conn.execute(select(t.clock.c.business_date).where(t.clock.c.id == 1)).scalar_one_or_none()


def store_business_date(conn: Connection, day: date) -> None:
    stmt = _insert(conn, t.clock)
    conn.execute(stmt.on_conflict_do_update(index_elements=[t.clock.c.id], set_={"business_date": day},
                                            where=t.clock.c.business_date < stmt.excluded.business_date),
                 {"id": 1, "business_date": day})


# --------------------------------------------------------------------------- accounts


def apply_accounts(conn: Connection, events: list[AccountChanged]) -> None:
    """Keep each account's highest revision and its users (idempotent, order-proof)."""
    latest: dict[str, AccountChanged] = {}
    for e in events:
        if e.account_id not in latest or latest[e.account_id].revision < e.revision:
            latest[e.account_id] = e
    for e in latest.values():
        current = conn.execute(select(t.accounts.c.revision).where(t.accounts.c.account_id == e.account_id)).scalar()
        if current is not None and current >= e.revision:
            continue
        db.upsert(conn, t.accounts, [{"account_id": e.account_id, "revision": e.revision}], keys=["account_id"],
                  update=["revision"])
        conn.execute(delete(t.account_users).where(t.account_users.c.account_id == e.account_id))
        users = {u.user_id for u in e.users}
        if users:
            conn.execute(insert(t.account_users), [{"account_id": e.account_id, "user_id": u} for u in users])


def user_may_see(conn: Connection, user_id: str, mprn: str) -> bool:
    """Whether the meter point's account lists the user (from portfolio.accounts.v1)."""
    sp = t.supply_points
    return conn.execute(select(func.count()).select_from(sp.join(
        t.account_users, and_(t.account_users.c.account_id == sp.c.account_id, t.account_users.c.user_id == user_id),
    )).where(sp.c.mpxn == mprn)).scalar_one() > 0


# ---------------------------------------------------------------------- reference data


def store_alp_daf(conn: Connection, rows: Iterable[AlpDafRow]) -> int:
    values = {(r.ldz, r.euc, r.gas_day): {"ldz": r.ldz, "euc": r.euc, "gas_day": r.gas_day, "alp": r.alp, "daf": r.daf}
              for r in rows}
    db.upsert(conn, t.alp_daf, list(values.values()), keys=["ldz", "euc", "gas_day"], update=["alp", "daf"])
    return len(values)


def alp_daf_rows(conn: Connection) -> list[AlpDafRow]:
    return [AlpDafRow(r.ldz, r.euc, r.gas_day, r.alp, r.daf) for r in conn.execute(select(t.alp_daf))]


def store_weather(conn: Connection, kind: str, rows: list[dict]) -> int:
    db.upsert(conn, t.weather, [{"kind": kind, **r} for r in rows], keys=["kind", "ldz", "gas_day"], update=["cwv"])
    return len(rows)


def weather_rows(conn: Connection, kind: str) -> list[tuple[str, date, float]]:
    rows = conn.execute(select(t.weather).where(t.weather.c.kind == kind))
    return [(r.ldz, r.gas_day, r.cwv) for r in rows]


# ----------------------------------------------------------------------------- status


def counts(conn: Connection) -> dict[str, int]:
    def count(table) -> int:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()

    return {
        "gas_days": count(t.gas_days),
        "register_reads": count(t.register_reads),
        "supply_points": count(t.supply_points),
        "meter_points": count(t.meter_points),
        "history": count(t.history),
    }
