"""Trackers' storage, their scope's supply points and the daily totals they read."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, delete, insert, select, update

from services.alerts.adapters import readmodels
from services.alerts.adapters import tables as t
from services.alerts.domain.trackers import Tracker
from services.alerts.domain.usage import MeterDayTotal, Tariff, daily_cost, daily_kwh


def to_domain(row) -> Tracker:
    return Tracker(
        tracker_id=row.tracker_id, name=row.name, scope=row.scope, scope_id=row.scope_id, fuel=row.fuel,
        period=row.period, amount=Decimal(str(row.amount)), unit=row.unit, currency=row.currency,
        custom_start=row.custom_start, custom_end=row.custom_end, paused=row.paused,
    )


def create(conn: Connection, tracker: Tracker, owner_user_id: str, owner_email: str, owner_role: str,
           now: datetime) -> None:
    conn.execute(insert(t.trackers).values(
        **_columns(tracker), tracker_id=tracker.tracker_id, owner_user_id=owner_user_id, owner_email=owner_email,
        owner_role=owner_role, created_at=now, updated_at=now))


def _columns(tracker: Tracker) -> dict:
    return {
        "name": tracker.name, "scope": tracker.scope, "scope_id": tracker.scope_id, "fuel": tracker.fuel,
        "period": tracker.period, "amount": tracker.amount, "unit": tracker.unit, "currency": tracker.currency,
        "custom_start": tracker.custom_start, "custom_end": tracker.custom_end, "paused": tracker.paused,
    }


def save(conn: Connection, tracker: Tracker, now: datetime) -> None:
    conn.execute(update(t.trackers).where(t.trackers.c.tracker_id == tracker.tracker_id)
                 .values(**_columns(tracker), updated_at=now))


def remove(conn: Connection, tracker_id: str) -> None:
    conn.execute(delete(t.trackers).where(t.trackers.c.tracker_id == tracker_id))


def get(conn: Connection, tracker_id: str):
    return conn.execute(select(t.trackers).where(t.trackers.c.tracker_id == tracker_id)).first()


def owned_by(conn: Connection, user_id: str) -> list:
    return list(conn.execute(select(t.trackers).where(t.trackers.c.owner_user_id == user_id)
                             .order_by(t.trackers.c.created_at, t.trackers.c.tracker_id)).all())


def watching(conn: Connection, mpxns: list[str]) -> list[tuple[object, set[str]]]:
    """Trackers whose scope includes any of ``mpxns``, with the ones it includes."""
    found = []
    for row in conn.execute(select(t.trackers).where(t.trackers.c.scope == "site", t.trackers.c.scope_id.in_(mpxns))):
        found.append((row, {row.scope_id}))
    containing = readmodels.groups_containing(conn, mpxns)
    if containing:
        rows = conn.execute(select(t.trackers).where(t.trackers.c.scope == "portfolio",
                                                     t.trackers.c.scope_id.in_(list(containing))))
        found += [(row, containing[row.scope_id]) for row in rows]
    return found


def scope_mpxns(conn: Connection, row) -> list[str]:
    """The tracker's supply points of its fuel that its owner may still see."""
    candidates = [row.scope_id] if row.scope == "site" else readmodels.group_mpxns(conn, row.scope_id)
    visible = readmodels.visible_mpxns(conn, row.owner_user_id, row.owner_email, row.owner_role, candidates)
    fuels = dict(conn.execute(select(t.supply_points.c.mpxn, t.supply_points.c.fuel)
                              .where(t.supply_points.c.mpxn.in_(list(visible)))).all())
    return sorted(m for m in visible if fuels.get(m) == row.fuel)


def tariffs(conn: Connection, mpxns: list[str]) -> tuple[dict[str, str], dict[str, Tariff]] | None:
    """(account of each mpxn, tariff of each account), or None unless every account is priced."""
    rows = conn.execute(
        select(t.supply_points.c.mpxn, t.accounts.c.account_id, t.accounts.c.unit_rate_per_kwh,
               t.accounts.c.standing_charge_per_day)
        .join(t.accounts, t.accounts.c.account_id == t.supply_points.c.account_id)
        .where(t.supply_points.c.mpxn.in_(mpxns))
    ).all()
    if not mpxns or len(rows) != len(mpxns) or any(r.unit_rate_per_kwh is None for r in rows):
        return None
    return ({r.mpxn: r.account_id for r in rows},
            {r.account_id: Tariff(r.unit_rate_per_kwh, r.standing_charge_per_day or 0.0) for r in rows})


def meter_days(conn: Connection, mpxns: list[str], start: date, end: date) -> list[MeterDayTotal]:
    """Daily totals of ``mpxns`` for local days ``start`` (inclusive) to ``end`` (exclusive)."""
    if not mpxns:
        return []
    u = t.daily_usage
    rows = conn.execute(select(u.c.mpxn, u.c.settlement_date, u.c.kwh, u.c.periods_present).where(
        u.c.mpxn.in_(mpxns), u.c.settlement_date >= start, u.c.settlement_date < end)).all()
    return [MeterDayTotal(r.mpxn, r.settlement_date, r.kwh, r.periods_present) for r in rows if r.periods_present]


def scope_daily(conn: Connection, row, start: date, end: date) -> dict[date, float]:
    """The tracker's scope per local day, in the tracker's unit."""
    mpxns = scope_mpxns(conn, row)
    days = meter_days(conn, mpxns, start, end)
    if row.unit == "money":
        priced = tariffs(conn, mpxns)
        return daily_cost(days, *priced) if priced else {}
    return daily_kwh(days)
