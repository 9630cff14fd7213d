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
from typing import Literal, Mapping, NamedTuple

import numpy as np

from services.ingest.domain.model import MeterDayBlock, ParsedMeterDay, ParsedRegisterRead, RowRejection
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


def value_stats_of_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the rules need of each row of a float64 matrix (NaN = missing), as arrays:
    how many values are present, the smallest and the largest (NaN when none is)."""
    present = np.count_nonzero(~np.isnan(values), axis=1)
    empty = present == 0
    filled = values[~empty] if empty.any() else values  # nanmin warns on all-NaN rows
    minimum = np.full(len(values), np.nan)
    maximum = np.full(len(values), np.nan)
    if filled.size:
        minimum[~empty], maximum[~empty] = np.nanmin(filled, axis=1), np.nanmax(filled, axis=1)
    return present, minimum, maximum


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
                       ) -> AcceptedMeterDay | RowRejection:
    """Accept (with flags) or reject one parsed meter-day: :func:`validate_block` of one row."""
    (verdict,) = validate_block(MeterDayBlock.of_days([day]), {day.mpxn: supply_point} if supply_point else {},
                                today, {day.mpxn: history} if history else {}, rules)
    return verdict if isinstance(verdict, RowRejection) else AcceptedMeterDay(day, verdict)


def validate_block(block: MeterDayBlock, supply_points: Mapping[str, SupplyPointInfo], today: date,
                   histories: Mapping[str, MeterHistory], rules: ValidationRules = DEFAULT_RULES,
                   ) -> list[tuple[str, ...] | RowRejection]:
    """Per meter-day of the block, in order: its flags when accepted, its rejection
    otherwise. The rules run on whole columns (ingest validates ~100,000 meter-days
    per file); the reason texts are built only for rejected meter-days."""
    present, minimum, maximum = value_stats_of_rows(block.kwh)
    width = block.kwh.shape[1]
    points = [supply_points.get(m) for m in block.mpxns]
    dates_ok = {day: day <= today and periods_in_day(day) == width for day in set(block.dates)}
    refused = np.array([sp is None or bool(problems) or _supply_point_reason(sp) is not None
                        for sp, problems in zip(points, block.problems)], dtype=bool) | (minimum < 0)
    if not all(dates_ok.values()):
        refused |= np.array([not dates_ok[day] for day in block.dates], dtype=bool)
    judged = [h.p95_period_kwh if h is not None and h.days >= rules.min_history_days else np.inf
              for h in map(histories.get, block.mpxns)]  # inf: too little history to judge
    with np.errstate(invalid="ignore"):  # inf * factor, NaN maximum of an empty day: never a spike
        spike = maximum > np.maximum(rules.spike_factor * np.array(judged, dtype=float), rules.spike_floor_kwh)
    filled = present > 0
    active = np.array([sp is not None and sp.active for sp in points], dtype=bool)
    estimated = np.array(["E" in q for q in block.qualities], dtype=bool)
    codes = (spike & filled) + 2 * (active & filled & (maximum == 0)) + 4 * estimated  # negatives were refused
    out: list[tuple[str, ...] | RowRejection] = list(map(_FLAG_SETS.__getitem__, codes.tolist()))
    for i in np.flatnonzero(refused).tolist():
        code, reason = _reject_reason(block, i, points[i], today, minimum[i])
        out[i] = RowRejection(block.row_numbers[i], block.mpxns[i], block.dates[i], code, reason)
    return out


# The flags of an accepted meter-day by code: 1 spike, 2 zero on an active meter, 4 estimated values
_FLAG_SETS = [tuple(name for bit, name in ((1, "spike"), (2, "zero_on_active"), (4, "estimated")) if code & bit)
              for code in range(8)]


def _reject_reason(block: MeterDayBlock, i: int, sp: SupplyPointInfo | None, today: date,
                   minimum: float) -> tuple[str, str]:
    mpxn, day, problems = block.mpxns[i], block.dates[i], block.problems[i]
    if sp is None:
        return "unknown_mpxn", f"MPxN {mpxn} is not a known supply point"
    status = _supply_point_reason(sp)
    if status is not None:
        return status
    if day > today:
        return "future_date", f"{day} is in the future (today is {today})"
    expected, count = periods_in_day(day), block.kwh.shape[1]
    if count != expected:
        return "period_count", f"{day} has {expected} periods, got {count}"
    for code in _PARSER_PROBLEM_ORDER:
        found = [p.detail for p in problems if p.code == code]
        if found:
            return code, "; ".join(found)
    if minimum < 0:
        negatives = [n + 1 for n, v in enumerate(block.kwh[i].tolist()) if v < 0]
        return "negative_value", f"negative consumption in period(s) {', '.join(map(str, negatives))}"
    return problems[0].code, problems[0].detail  # a parser problem outside _PARSER_PROBLEM_ORDER


def _supply_point_reason(sp: SupplyPointInfo) -> tuple[str, str] | None:
    onboarded, why = _onboarding_of_kind(sp[_KIND])
    if not onboarded:
        return "not_onboarded", why
    if sp.enrolment_status == "opted_out":
        return "opted_out", f"the customer of {sp.mpxn} opted out of HH data"
    return None


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


def fold_histories(touched: dict[str, MeterHistory], histories: Mapping[str, MeterHistory], mpxns: list[str],
                   p95s: np.ndarray) -> None:
    """Fold days (their meters and day p95s, in order) into the summaries in ``touched``,
    which start from ``histories``: :func:`folded_history` day by day, computed on
    whole columns when no meter appears twice."""
    if not mpxns:
        return
    if len(set(mpxns)) < len(mpxns) or not touched.keys().isdisjoint(mpxns):
        for mpxn, p95 in zip(mpxns, p95s.tolist()):
            touched[mpxn] = folded_history(touched.get(mpxn, histories.get(mpxn)), p95)
        return
    before = list(map(histories.get, mpxns))
    days = np.array([-1 if h is None else h.days for h in before], dtype=np.int64)  # -1: no summary yet
    p95 = np.array([0.0 if h is None else h.p95_period_kwh for h in before], dtype=np.float64)
    weight = np.minimum(days, HISTORY_WINDOW_DAYS)
    with np.errstate(divide="ignore", invalid="ignore"):  # the rows np.where drops
        averaged = (p95 * weight + p95s) / (weight + 1)
    empty, first = np.isnan(p95s), days <= 0
    new_days = np.where(empty, np.maximum(days, 0), np.where(first, 1, days + 1))
    new_p95 = np.where(empty, p95, np.where(first, p95s, averaged))
    touched.update(zip(mpxns, map(MeterHistory._make, zip(new_days.tolist(), new_p95.tolist()))))


def folded_history(history: MeterHistory | None, day_p95: float | None) -> MeterHistory:
    """The running summary after one more day whose p95 is ``day_p95`` (None or NaN: a day with no values)."""
    if day_p95 is None or math.isnan(day_p95):
        return history or MeterHistory(days=0, p95_period_kwh=0.0)
    if history is None or history.days == 0:
        return MeterHistory(days=1, p95_period_kwh=day_p95)
    weight = min(history.days, HISTORY_WINDOW_DAYS)
    return MeterHistory(days=history.days + 1, p95_period_kwh=(history.p95_period_kwh * weight + day_p95) / (weight + 1))
