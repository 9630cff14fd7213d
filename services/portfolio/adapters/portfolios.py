"""Resolving a portfolio id (a user's group or the implicit "all sites") to the
supply points the caller may see, and reading their stored values."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import Connection, Engine, select

from services.portfolio.adapters import groups as group_store
from services.portfolio.adapters import month_cache
from services.portfolio.adapters import repository as repo
from services.portfolio.adapters import tables as t
from services.portfolio.domain.consumption import (
    Block, MeterDay, Series, accumulate_blocks, day_range, months_between,
)
from services.portfolio.domain.exports import PointDay
from services.portfolio.domain.portfolio import ALL_SITES, shows_data
from shared.auth import Principal

_IN_CHUNK = 500  # keeps IN lists well inside every driver's parameter limit


@dataclass(frozen=True)
class Portfolio:
    id: str
    name: str
    kind: str  # "group" or "all"
    owner_user_id: str | None
    site_ids: list[str]
    points: list[repo.SupplyPoint]


def all_sites(conn: Connection, principal: Principal, today: date) -> Portfolio:
    points = repo.list_supply_points(conn, principal, today)
    return Portfolio(ALL_SITES, "All sites", "all", None, sorted({p.site_id for p in points}), points)


def resolve(conn: Connection, principal: Principal, portfolio_id: str, today: date) -> Portfolio | None:
    """The portfolio if the caller may see it (their own group; operations any group), else None.
    A group's sites are limited to those the caller can still see."""
    if portfolio_id == ALL_SITES:
        portfolio = all_sites(conn, principal, today)
        return portfolio if len(portfolio.site_ids) > 1 else None
    owner = None if principal.role == "operations" else principal.user_id
    group = group_store.group_row(conn, portfolio_id, owner)
    if group is None:
        return None
    visible = {p.site_id for p in repo.list_supply_points(conn, principal, today)}
    site_ids = [s for s in group_store.group_site_ids(conn, group.id) if s in visible or principal.role == "operations"]
    points = repo.supply_points_of_sites(conn, site_ids, today)
    return Portfolio(group.id, group.name, "group", group.owner_user_id, site_ids, points)


def visible_site_ids(conn: Connection, principal: Principal, today: date) -> set[str]:
    return {p.site_id for p in repo.list_supply_points(conn, principal, today)}


def series(conn: Connection, points: Iterable[repo.SupplyPoint], start: datetime, end: datetime) -> Series:
    """Summed values of the points whose data may be shown (onboarded, active enrolment)."""
    mpxns = sorted(p.mpxn for p in points if shows_data(p))
    return accumulate_blocks(_blocks(conn, mpxns, start, end).values(), start, end)


def _blocks(conn: Connection, mpxns: Sequence[str], start: datetime, end: datetime) -> dict[tuple[str, date], Block]:
    if not mpxns:
        return {}
    first, last = months_between(*day_range(start, end))
    return month_cache.for_engine(conn.engine).blocks(conn, mpxns, first, last)


def days_by_point(conn: Connection, mpxns: Sequence[str], first: date, last: date) -> dict[str, list[MeterDay]]:
    md = t.meter_days.c
    out: dict[str, list[MeterDay]] = {m: [] for m in mpxns}
    for i in range(0, len(mpxns), _IN_CHUNK):
        rows = conn.execute(select(md.mpxn, md.settlement_date, md.kwh, md.quality)
                            .where(md.mpxn.in_(list(mpxns[i:i + _IN_CHUNK])), md.settlement_date.between(first, last)))
        for mpxn, d, b, q in rows.tuples():
            out[mpxn].append((d, bytes(b), q))
    return out


def coverage_by_point(conn: Connection, mpxns: Sequence[str], start: datetime, end: datetime) -> dict[str, float]:
    """Share of each point's periods in [start, end) that have a value."""
    by_point: dict[str, list[Block]] = {m: [] for m in mpxns}
    for (mpxn, _), block in _blocks(conn, sorted(mpxns), start, end).items():
        by_point[mpxn].append(block)
    out = {}
    for mpxn, blocks in by_point.items():
        present = accumulate_blocks(blocks, start, end).present
        out[mpxn] = round(float(present.sum()) / max(len(present), 1), 4)
    return out


def point_days(engine: Engine, points: Sequence[repo.SupplyPoint], first: date, last: date,
               chunk_days: int = 7) -> Iterator[PointDay]:
    """Every (point, day) of [first, last] in day order, None where nothing was
    received. Reads a few days at a time on a short-lived connection, so an
    export of years streams in constant memory."""
    shown = sorted((p for p in points if shows_data(p)), key=lambda p: p.mpxn)
    mpxns = [p.mpxn for p in shown]
    md = t.meter_days.c
    day = first
    while day <= last and shown:
        chunk_end = min(day + timedelta(days=chunk_days - 1), last)
        stored: dict[tuple[str, date], tuple[bytes, str]] = {}
        with engine.connect() as conn:
            for i in range(0, len(mpxns), _IN_CHUNK):
                result = conn.execute(select(md.mpxn, md.settlement_date, md.kwh, md.quality)
                                      .where(md.mpxn.in_(mpxns[i:i + _IN_CHUNK]),
                                             md.settlement_date.between(day, chunk_end)))
                stored.update({(m, d): (bytes(b), q) for m, d, b, q in result.tuples()})
        while day <= chunk_end:
            for p in shown:
                blob, quality = stored.get((p.mpxn, day), (None, None))
                values = np.frombuffer(blob, dtype="<f8") if blob is not None else None
                yield p.mpxn, p.site_id, p.fuel, day, values, quality
            day += timedelta(days=1)
