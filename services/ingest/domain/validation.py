"""Per meter-day validation (VEE) and onboarding rules.

Reject (with a reason code): unknown_mpxn, not_onboarded, opted_out, future_date,
period_count, conflicting_duplicate, non_numeric, negative_value - checked in that
order, first failure wins. Flag but keep: spike, zero_on_active, estimated.
Missing intervals are never filled.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal, NamedTuple

import numpy as np

from services.ingest.domain.model import ParsedMeterDay, ParsedRegisterRead, RowRejection
from shared.hh import periods_in_day

NOT_ONBOARDED_HH = "import/export sites not supported yet"
ONBOARDED_PROFILE_CLASSES = frozenset(f"{n:02d}" for n in range(1, 9))
_PARSER_PROBLEM_ORDER = ("period_count", "conflicting_duplicate", "non_numeric")


class SupplyPointInfo(NamedTuple):
    """What validation needs to know about a supply point (from the portfolio service).
    A tuple: ingest builds one per meter per chunk. (An open opt-out window is
    not ingest's business: the data is accepted and portfolio holds it back.)"""

    mpxn: str
    fuel: Literal["electricity", "gas"]
    meter_type: Literal["smart", "amr"]
    profile_class: str | None = None
    settlement: Literal["nhh", "hh"] = "nhh"
    active: bool = True
    enrolment_status: str = "active"


class MeterHistory(NamedTuple):
    """A small summary of a meter's own recent half-hourly values (kWh)."""

    days: int
    p95_period_kwh: float


@dataclass(frozen=True)
class ValidationRules:
    """Tunable thresholds. A period value is a spike when it exceeds ``spike_factor``
    times the meter's p95 and also the absolute floor (so a near-zero history does
    not flag every small load); meters with too little history are not judged."""

    spike_factor: float = 10.0
    spike_floor_kwh: float = 5.0
    min_history_days: int = 7


DEFAULT_RULES = ValidationRules()


class AcceptedMeterDay(NamedTuple):
    day: ParsedMeterDay
    flags: tuple[str, ...] = ()


class ValueStats(NamedTuple):
    """What the rules need of a day's values: how many are present, the smallest
    and the largest (NaN when none is). Ingest computes them for a whole chunk at
    once (:func:`value_stats_of_rows`); :func:`value_stats` does one day."""

    present: int
    minimum: float
    maximum: float


def value_stats(values: list[float | None]) -> ValueStats:
    present = values if None not in values else [v for v in values if v is not None]
    if not present:
        return ValueStats(0, math.nan, math.nan)
    return ValueStats(len(present), min(present), max(present))


def value_stats_of_rows(values: np.ndarray) -> list[ValueStats]:
    """:func:`value_stats` of each row of a float64 matrix (NaN = missing)."""
    present = np.count_nonzero(~np.isnan(values), axis=1)
    empty = present == 0
    filled = values[~empty] if empty.any() else values  # nanmin warns on all-NaN rows
    minimum = np.full(len(values), np.nan)
    maximum = np.full(len(values), np.nan)
    minimum[~empty], maximum[~empty] = np.nanmin(filled, axis=1), np.nanmax(filled, axis=1)
    return list(map(ValueStats._make, zip(present.tolist(), minimum.tolist(), maximum.tolist())))


def onboarding_decision(supply_point: SupplyPointInfo) -> tuple[bool, str]:
    """Whether the portal takes this supply point's HH data, and why (portal document rules)."""
    if supply_point.fuel == "gas":
        return True, f"{supply_point.meter_type} gas is onboarded"
    profile_class = _profile_class(supply_point.profile_class)
    if supply_point.settlement == "hh" or profile_class == "00":
        return False, NOT_ONBOARDED_HH
    if supply_point.meter_type == "smart":
        return True, "smart power is onboarded"
    if profile_class in ONBOARDED_PROFILE_CLASSES:
        return True, f"NHH AMR power in profile class {profile_class} is onboarded"
    return False, f"AMR power needs profile class 01-08, got {supply_point.profile_class or 'none'}"


_KIND = slice(1, 5)  # (fuel, meter_type, profile_class, settlement) of a SupplyPointInfo


@lru_cache(maxsize=256)  # supply points come in a handful of kinds; ingest asks once per meter-day
def _onboarding_of_kind(kind: tuple) -> tuple[bool, str]:
    return onboarding_decision(SupplyPointInfo("", *kind))


def _profile_class(value: str | None) -> str | None:
    if value is None or not value.strip().isdigit():
        return value
    return f"{int(value):02d}"


def validate_meter_day(day: ParsedMeterDay, supply_point: SupplyPointInfo | None, today: date,
                       history: MeterHistory | None = None, rules: ValidationRules = DEFAULT_RULES,
                       stats: ValueStats | None = None) -> AcceptedMeterDay | RowRejection:
    """Accept (with flags) or reject one parsed meter-day; ``stats`` are its
    :func:`value_stats` when the caller has them already."""
    stats = stats or value_stats(day.values)
    rejection = _reject_reason(day, supply_point, today, stats)
    if rejection is not None:
        code, reason = rejection
        return RowRejection(day.row_number, day.mpxn, day.settlement_date, code, reason)
    assert supply_point is not None
    return AcceptedMeterDay(day, _flags(day, supply_point, history, rules, stats))


def _reject_reason(day: ParsedMeterDay, sp: SupplyPointInfo | None, today: date,
                   stats: ValueStats) -> tuple[str, str] | None:
    if sp is None:
        return "unknown_mpxn", f"MPxN {day.mpxn} is not a known supply point"
    status = _supply_point_reason(sp)
    if status is not None:
        return status
    if day.settlement_date > today:
        return "future_date", f"{day.settlement_date} is in the future (today is {today})"
    expected = periods_in_day(day.settlement_date)
    if len(day.values) != expected:
        return "period_count", f"{day.settlement_date} has {expected} periods, got {len(day.values)}"
    for code in _PARSER_PROBLEM_ORDER if day.problems else ():
        found = [p.detail for p in day.problems if p.code == code]
        if found:
            return code, "; ".join(found)
    if stats.minimum < 0:
        negatives = [i + 1 for i, v in enumerate(day.values) if v is not None and v < 0]
        return "negative_value", f"negative consumption in period(s) {', '.join(map(str, negatives))}"
    return None


def _supply_point_reason(sp: SupplyPointInfo) -> tuple[str, str] | None:
    onboarded, why = _onboarding_of_kind(sp[_KIND])
    if not onboarded:
        return "not_onboarded", why
    if sp.enrolment_status == "opted_out":
        return "opted_out", f"the customer of {sp.mpxn} opted out of HH data"
    return None


def _flags(day: ParsedMeterDay, sp: SupplyPointInfo, history: MeterHistory | None, rules: ValidationRules,
           stats: ValueStats) -> tuple[str, ...]:
    flags: list[str] = []
    if history is not None and history.days >= rules.min_history_days and stats.present:
        limit = max(rules.spike_factor * history.p95_period_kwh, rules.spike_floor_kwh)
        if stats.maximum > limit:
            flags.append("spike")
    if sp.active and stats.present and stats.maximum == 0:  # negatives were rejected: all zero
        flags.append("zero_on_active")
    if "E" in day.quality:
        flags.append("estimated")
    return tuple(flags)


def validate_register_read(read: ParsedRegisterRead, supply_point: SupplyPointInfo | None,
                           today: date) -> ParsedRegisterRead | RowRejection:
    """Register reads share the supply-point and date rules; an index cannot be negative."""
    reason: tuple[str, str] | None
    if supply_point is None:
        reason = "unknown_mpxn", f"MPxN {read.mpxn} is not a known supply point"
    elif read.read_date > today:
        reason = "future_date", f"{read.read_date} is in the future (today is {today})"
    elif read.register_value < 0:
        reason = "negative_value", f"register value {read.register_value} is negative"
    else:
        reason = _supply_point_reason(supply_point)
    if reason is None:
        return read
    return RowRejection(read.row_number, read.mpxn, read.read_date, *reason)


HISTORY_WINDOW_DAYS = 28


def updated_history(history: MeterHistory | None, values: list[float | None]) -> MeterHistory:
    """Fold one accepted day into the meter's running summary: the p95 of its
    period values, averaged over (at most) the last four weeks."""
    present = sorted(v for v in values if v is not None)
    return folded_history(history, present[min(len(present) - 1, int(0.95 * len(present)))] if present else None)


def day_p95s(values: np.ndarray) -> np.ndarray:
    """The day p95 :func:`updated_history` takes, for each row of a float64 matrix
    of meter-days of one length (NaN = missing); NaN for a row with no values."""
    present = np.count_nonzero(~np.isnan(values), axis=1)
    index = np.minimum(present - 1, (0.95 * present).astype(np.int64)).clip(min=0)
    p95 = np.take_along_axis(np.sort(values, axis=1), index[:, None], axis=1)[:, 0]  # sort puts NaN last
    return np.where(present > 0, p95, np.nan)


def folded_history(history: MeterHistory | None, day_p95: float | None) -> MeterHistory:
    """The running summary after one more day whose p95 is ``day_p95`` (None or NaN: a day with no values)."""
    if day_p95 is None or math.isnan(day_p95):
        return history or MeterHistory(days=0, p95_period_kwh=0.0)
    if history is None or history.days == 0:
        return MeterHistory(days=1, p95_period_kwh=day_p95)
    weight = min(history.days, HISTORY_WINDOW_DAYS)
    return MeterHistory(days=history.days + 1, p95_period_kwh=(history.p95_period_kwh * weight + day_p95) / (weight + 1))
