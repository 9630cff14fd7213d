"""Daily totals of supply points rolled up to what the rules work on: a
tracker's scope (kWh or money per local day) and an account's bill days.

An account can have several meters, but the projection's data-sufficiency
rules count reads of *one* meter's possible half-hours; so an account day's
reads are the mean per meter, which keeps "75 % of possible reads" meaning
"75 % of the account's half-hours arrived".
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from services.alerts.domain.projection import DayUsage


@dataclass(frozen=True)
class MeterDayTotal:
    """One supply point's local day: kWh of the half-hours present."""

    mpxn: str
    day: date
    kwh: float
    reads: int


@dataclass(frozen=True)
class Tariff:
    """An account's modelled flat tariff."""

    unit_rate_per_kwh: float
    standing_charge_per_day: float = 0.0


def daily_kwh(rows: Iterable[MeterDayTotal]) -> dict[date, float]:
    totals: dict[date, float] = defaultdict(float)
    for r in rows:
        totals[r.day] += r.kwh
    return dict(totals)


def daily_cost(rows: Iterable[MeterDayTotal], account_of: Mapping[str, str], tariffs: Mapping[str, Tariff]) -> dict[date, float]:
    """Money per day: energy at each account's unit rate, plus each account's
    standing charge once for every day it has data. Every account must be priced."""
    totals: dict[date, float] = defaultdict(float)
    charged: set[tuple[str, date]] = set()
    for r in rows:
        account = account_of[r.mpxn]
        tariff = tariffs[account]
        totals[r.day] += r.kwh * tariff.unit_rate_per_kwh
        if (account, r.day) not in charged:
            charged.add((account, r.day))
            totals[r.day] += tariff.standing_charge_per_day
    return dict(totals)


def account_days(rows: Iterable[MeterDayTotal], meters: int, tariff: Tariff | None) -> list[DayUsage]:
    """An account's days for the bill projection; every read is rate-modelled
    when the account has a modelled tariff."""
    if meters < 1:
        return []
    by_day: dict[date, list[MeterDayTotal]] = defaultdict(list)
    for r in rows:
        by_day[r.day].append(r)
    days = []
    for day, day_rows in sorted(by_day.items()):
        kwh = sum(r.kwh for r in day_rows)
        reads = round(sum(r.reads for r in day_rows) / meters)
        cost = kwh * tariff.unit_rate_per_kwh + tariff.standing_charge_per_day if tariff else 0.0
        days.append(DayUsage(day=day, kwh=kwh, reads=reads, cost=cost, rate_modelled_reads=reads if tariff else 0))
    return days
