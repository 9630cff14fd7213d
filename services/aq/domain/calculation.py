"""The Rolling AQ formula, its eligibility rules and a vectorised monthly run.

*Reconstructed* formula (domain note)::

    AQ = E x 365 / sum over gas days d in [start read, end read) of ALP_d x (1 + DAF_d x WCF_d)
    WCF_d = actual CWV_d - seasonal normal CWV_d

ALP is a daily share of a year's seasonal-normal demand averaging 1.0, so the
denominator is "how many normal days' worth of demand the period held, given
the weather that actually happened". In seasonal normal weather (WCF = 0) it
reduces to ``E x 365 / sum(ALP_d)``.

Failures never produce an AQ: the previous AQ is kept and the reason is
reported. When several rules fail, the first in :class:`FailureReason` order
is reported, identically in the scalar and the vectorised path (which has no
consumption gaps: it takes read periods as given).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Iterable, Optional, Sequence

import numpy as np

from services.aq.domain.dates import add_months, add_months_array
from services.aq.domain.reference import ReferenceData

#: Marks "no such day" (no backstop date, never reconnected) in ``int32`` day-index arrays.
NO_DAY = -(2**30)


class FailureReason(StrEnum):
    """Why an AQ did not calculate, in reporting priority order.

    ``CONSUMPTION_GAP`` is appended rather than placed by priority so the
    vectorised run's integer codes stay stable; it only ever stands in for
    ``PERIOD_TOO_SHORT`` (see :func:`eligibility_failure`).
    """

    ISOLATED = "isolated"
    NEW_POINT = "new_point"
    MISSING_READ = "missing_read"
    READ_BEFORE_BACKSTOP = "read_before_backstop"
    PERIOD_TOO_SHORT = "period_too_short"
    PERIOD_TOO_LONG = "period_too_long"
    RECONNECTION_IN_PERIOD = "reconnection_in_period"
    NEGATIVE_CONSUMPTION = "negative_consumption"
    MISSING_REFERENCE_DATA = "missing_reference_data"
    NON_POSITIVE_PROFILE = "non_positive_profile"
    CONSUMPTION_GAP = "consumption_gap"


#: Integer codes used by the vectorised run: 0 = calculated, i + 1 = ``REASONS[i]``.
REASONS: tuple[FailureReason, ...] = tuple(FailureReason)


def reason_of(code: int) -> Optional[FailureReason]:
    return None if code == 0 else REASONS[code - 1]


@dataclass(frozen=True)
class AqRules:
    """The configurable parameters of the calculation rules."""

    min_period_months: int = 9
    max_period_months: int = 36
    new_point_months: int = 9
    days_per_year: float = 365.0
    #: Classes whose SOQ is derived from AQ (NDM); class 1/2 SOQs are nominated.
    derived_soq_classes: frozenset[int] = field(default_factory=lambda: frozenset({3, 4}))


DEFAULT_RULES = AqRules()


# ------------------------------------------------------------------------- energy


def register_energy_kwh(
    start_index: float, end_index: float, unit: str, cv_mj_m3: float, reference: ReferenceData
) -> float:
    """Energy between two register reads; m3 is converted with the volume correction and CV.

    May be negative: a negative advance is a failure reason, not something to hide.
    """
    advance = end_index - start_index
    if unit == "kWh":
        return advance
    if unit == "m3":
        return reference.conversion.m3_to_kwh(advance, cv_mj_m3)
    raise ValueError(f"unsupported register unit {unit!r}")


def hh_energy_kwh(days: Iterable[Sequence[Optional[float]]]) -> Optional[float]:
    """Sum of half-hourly kWh over whole settlement days (46, 48 or 50 values each).

    ``None`` if any value is missing: a gap in the data is a failure, never filled.
    """
    total = 0.0
    for values in days:
        for value in values:
            if value is None:
                return None
            total += value
    return total


# --------------------------------------------------------------------------- EUC / SOQ


def soq_kwh(
    aq_kwh: float, meter_class: int, reference: ReferenceData, rules: AqRules = DEFAULT_RULES
) -> Optional[float]:
    """Peak-day SOQ = AQ / (365 x LF of the AQ's EUC) for NDM classes, else ``None``."""
    if meter_class not in rules.derived_soq_classes:
        return None
    return aq_kwh / (rules.days_per_year * reference.eucs.band_for(aq_kwh).load_factor)


# ----------------------------------------------------------------------- scalar path


@dataclass(frozen=True)
class PointFacts:
    """What the rules need to know about a supply meter point."""

    ldz: str
    euc: str
    meter_class: int
    registered_on: date
    isolated: bool = False
    backstop_date: Optional[date] = None
    #: The latest reconnection on or before the end read, if any.
    reconnected_on: Optional[date] = None
    #: The latest day of missing consumption data that voided the reads before it (an HH chain restart).
    consumption_gap: Optional[date] = None


@dataclass(frozen=True)
class ReadPeriod:
    """A start and end read and the energy between them (``None`` where missing)."""

    start: Optional[date]
    end: Optional[date]
    energy_kwh: Optional[float]


@dataclass(frozen=True)
class AqOutcome:
    """The AQ in force after a calculation attempt: the new one, or the previous one on failure."""

    aq_kwh: float
    reason: Optional[FailureReason]
    euc: str
    soq_kwh: Optional[float]

    @property
    def calculated(self) -> bool:
        return self.reason is None


def eligibility_failure(
    point: PointFacts, period: ReadPeriod, as_of: date, rules: AqRules = DEFAULT_RULES
) -> Optional[FailureReason]:
    """The first rule (in priority order) that stops a calculation before any arithmetic.

    A period that is too short only because a consumption gap voided the reads
    before its start fails as ``CONSUMPTION_GAP``: the gap lies before the start
    read and within the longest period before the end read, so every period
    long enough to calculate would span the missing energy.
    """
    if point.isolated:
        return FailureReason.ISOLATED
    if add_months(point.registered_on, rules.new_point_months) > as_of:
        return FailureReason.NEW_POINT
    if period.start is None or period.end is None or period.energy_kwh is None:
        return FailureReason.MISSING_READ
    if point.backstop_date is not None and period.start < point.backstop_date:
        return FailureReason.READ_BEFORE_BACKSTOP
    if add_months(period.start, rules.min_period_months) > period.end:
        gap = point.consumption_gap
        if gap is not None and add_months(period.end, -rules.max_period_months) <= gap < period.start:
            return FailureReason.CONSUMPTION_GAP
        return FailureReason.PERIOD_TOO_SHORT
    if add_months(period.start, rules.max_period_months) < period.end:
        return FailureReason.PERIOD_TOO_LONG
    if point.reconnected_on is not None and period.start < point.reconnected_on <= period.end:
        return FailureReason.RECONNECTION_IN_PERIOD
    if period.energy_kwh < 0:
        return FailureReason.NEGATIVE_CONSUMPTION
    return None


def weighted_profile_sum(reference: ReferenceData, ldz: str, euc: str, start: date, end: date) -> Optional[float]:
    """Sum of ALP x (1 + DAF x WCF) over gas days [start, end); ``None`` on any gap.

    Summed directly over the daily series (not through the prefix sums) so it
    is an independent check on the vectorised path.
    """
    s, e = reference.day_index(start), reference.day_index(end)
    if s < 0 or e > reference.n_days:
        return None
    days = reference.weighted[reference.profile_index(ldz, euc), s:e]
    if np.isnan(days).any():
        return None
    return float(days.sum())


def calculate_aq(
    point: PointFacts,
    period: ReadPeriod,
    reference: ReferenceData,
    as_of: date,
    previous_aq_kwh: float,
    rules: AqRules = DEFAULT_RULES,
) -> AqOutcome:
    """One point's AQ from one read pair, or the previous AQ with the failure reason."""
    reason = eligibility_failure(point, period, as_of, rules)
    aq = previous_aq_kwh
    if reason is None:
        assert period.start is not None and period.end is not None and period.energy_kwh is not None
        denominator = weighted_profile_sum(reference, point.ldz, point.euc, period.start, period.end)
        if denominator is None:
            reason = FailureReason.MISSING_REFERENCE_DATA
        elif denominator <= 0:
            reason = FailureReason.NON_POSITIVE_PROFILE
        else:
            aq = period.energy_kwh * rules.days_per_year / denominator
    euc = reference.eucs.band_for(aq).code
    return AqOutcome(aq, reason, euc, soq_kwh(aq, point.meter_class, reference, rules))


def calculate_winter_consumption(
    point: PointFacts,
    period: ReadPeriod,
    reference: ReferenceData,
    winter_start: date,
    winter_end: date,
) -> tuple[Optional[float], Optional[FailureReason]]:
    """Weather-corrected consumption over the winter [winter_start, winter_end), or the failure.

    *Reconstructed*, by analogy with the AQ: the read period must cover the
    winter; its energy is scaled by the seasonal-normal winter demand share
    over the weather-corrected demand share of the period::

        WC = E x sum_winter ALP_d / sum_period ALP_d x (1 + DAF_d x WCF_d)
    """
    if point.isolated:
        return None, FailureReason.ISOLATED
    if period.start is None or period.end is None or period.energy_kwh is None:
        return None, FailureReason.MISSING_READ
    if period.start > winter_start or period.end < winter_end:
        return None, FailureReason.PERIOD_TOO_SHORT
    if point.backstop_date is not None and period.start < point.backstop_date:
        return None, FailureReason.READ_BEFORE_BACKSTOP
    if point.reconnected_on is not None and period.start < point.reconnected_on <= period.end:
        return None, FailureReason.RECONNECTION_IN_PERIOD
    if period.energy_kwh < 0:
        return None, FailureReason.NEGATIVE_CONSUMPTION
    denominator = weighted_profile_sum(reference, point.ldz, point.euc, period.start, period.end)
    s, e = reference.day_index(winter_start), reference.day_index(winter_end)
    winter = reference.alp[reference.ldzs.index(point.ldz), reference.eucs.index_of(point.euc), s:e]
    if denominator is None or np.isnan(winter).any():
        return None, FailureReason.MISSING_REFERENCE_DATA
    if denominator <= 0:
        return None, FailureReason.NON_POSITIVE_PROFILE
    return period.energy_kwh * float(winter.sum()) / denominator, None


# ------------------------------------------------------------------- vectorised path


@dataclass(frozen=True, eq=False)
class PointArrays:
    """Column arrays for N points; days are ``int32`` gas-day indices from ``reference.origin``.

    ``profile`` is :meth:`ReferenceData.profile_index` of the point's (LDZ, EUC).
    A missing read is a NaN ``energy_kwh`` (its days are then ignored);
    ``NO_DAY`` marks "no backstop date" and "never reconnected".
    """

    profile: np.ndarray
    meter_class: np.ndarray
    start_day: np.ndarray
    end_day: np.ndarray
    energy_kwh: np.ndarray
    registered_day: np.ndarray
    backstop_day: np.ndarray
    reconnection_day: np.ndarray
    isolated: np.ndarray
    previous_aq: np.ndarray

    def __len__(self) -> int:
        return int(self.profile.size)


@dataclass(frozen=True, eq=False)
class MonthlyRunResult:
    """Per point: AQ in force (new or previous), reason code (0 = calculated), EUC index, SOQ (NaN if not derived)."""

    aq: np.ndarray
    reason: np.ndarray
    euc: np.ndarray
    soq: np.ndarray


def plain_numpy_baseline(points: PointArrays, reference: ReferenceData) -> np.ndarray:
    """The bare formula over the same arrays, no rules: the bench's yardstick."""
    cum = reference.weighted_cumsum.ravel()
    row = points.profile * (reference.n_days + 1)
    return points.energy_kwh * 365.0 / (np.take(cum, row + points.end_day) - np.take(cum, row + points.start_day))


#: Points per block in :func:`monthly_run`: small enough for the ~30 temporaries to stay in cache.
BLOCK = 1 << 16


def monthly_run(
    points: PointArrays, reference: ReferenceData, as_of: date, rules: AqRules = DEFAULT_RULES
) -> MonthlyRunResult:
    """The monthly calculation for all points at once, with every rule as an array mask.

    Written for speed, since it must stay within a small factor of the bare
    formula: the period sum is one gather per read into per-profile prefix
    sums plus one into a "next missing day" table; the month rules go through
    a lookup table over the span of start days; and the points are processed
    in cache-sized blocks so the many masks never round-trip through memory.
    """
    n = len(points)
    result = MonthlyRunResult(
        aq=np.empty(n), reason=np.empty(n, dtype=np.int8), euc=np.empty(n, dtype=np.uint8), soq=np.empty(n)
    )
    windows = _MonthWindows(points.start_day, ~np.isnan(points.energy_kwh), reference, rules)
    cutoff = _latest_eligible_registration(as_of, reference, rules)
    for lo in range(0, n, BLOCK):
        block = slice(lo, min(lo + BLOCK, n))
        _run_block(points, block, reference, rules, windows, cutoff, result)
    return result


def _run_block(
    points: PointArrays,
    block: slice,
    reference: ReferenceData,
    rules: AqRules,
    windows: _MonthWindows,
    registration_cutoff: int,
    out: MonthlyRunResult,
) -> None:
    """Evaluate every rule and the formula for ``points[block]`` into ``out[block]``.

    The reason is written mask by mask from the lowest priority up, so the
    highest-priority failure is the one left.
    """
    start, end, energy = points.start_day[block], points.end_day[block], points.energy_kwh[block]
    row = points.profile[block] * np.int32(reference.n_days + 1)
    start_at = row + start
    cum = reference.weighted_cumsum.ravel()
    # mode="clip" keeps out-of-range days from raising; those rows fail as missing reference data.
    denominator = np.take(cum, row + end, mode="clip")
    denominator -= np.take(cum, start_at, mode="clip")
    no_reference = start < 0
    if reference.has_gaps:
        no_reference |= np.take(reference.next_gap, start_at, mode="clip") < end
    no_reference |= end > reference.n_days
    min_end, max_end = windows.bounds(start)
    reconnection = points.reconnection_day[block]

    reason = out.reason[block]
    reason[:] = 0
    checks = (
        (FailureReason.NON_POSITIVE_PROFILE, denominator <= 0),
        (FailureReason.MISSING_REFERENCE_DATA, no_reference),
        (FailureReason.NEGATIVE_CONSUMPTION, energy < 0),
        (FailureReason.RECONNECTION_IN_PERIOD, (reconnection > start) & (reconnection <= end)),
        (FailureReason.PERIOD_TOO_LONG, end > max_end),
        (FailureReason.PERIOD_TOO_SHORT, end < min_end),
        (FailureReason.READ_BEFORE_BACKSTOP, start < points.backstop_day[block]),
        (FailureReason.MISSING_READ, np.isnan(energy)),
        (FailureReason.NEW_POINT, points.registered_day[block] > registration_cutoff),
        (FailureReason.ISOLATED, points.isolated[block]),
    )
    for failure, mask in checks:
        np.copyto(reason, REASONS.index(failure) + 1, where=mask)

    aq = out.aq[block]
    with np.errstate(divide="ignore", invalid="ignore"):
        np.multiply(energy, rules.days_per_year, out=aq)
        aq /= denominator
    np.copyto(aq, points.previous_aq[block], where=reason != 0)
    euc = out.euc[block]
    reference.eucs.band_indices(aq, out=euc)
    soq = out.soq[block]
    np.take(reference.eucs.load_factors * rules.days_per_year, euc, out=soq)
    np.divide(aq, soq, out=soq)
    derived = np.zeros(aq.size, dtype=bool)
    for meter_class in rules.derived_soq_classes:
        derived |= points.meter_class[block] == meter_class
    np.copyto(soq, np.nan, where=~derived)


class _MonthWindows:
    """Earliest and latest allowed end day per start day, tabulated over the span of start days.

    Month arithmetic per point would dominate the run; the span of distinct
    start days is only a few years, so a table lookup replaces it.
    """

    def __init__(self, start: np.ndarray, have_reads: np.ndarray, reference: ReferenceData, rules: AqRules) -> None:
        known = start[have_reads] if have_reads.any() else np.zeros(1, dtype=np.int32)
        self.lo = int(known.min())
        origin = np.datetime64(reference.origin)
        days = origin + np.arange(self.lo, int(known.max()) + 1)
        self.min_end = (add_months_array(days, rules.min_period_months) - origin).astype(np.int32)
        self.max_end = (add_months_array(days, rules.max_period_months) - origin).astype(np.int32)

    def bounds(self, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        offset = start - np.int32(self.lo)
        return np.take(self.min_end, offset, mode="clip"), np.take(self.max_end, offset, mode="clip")


def _latest_eligible_registration(as_of: date, reference: ReferenceData, rules: AqRules) -> int:
    """Day index of the last registration date that is at least ``new_point_months`` before ``as_of``.

    ``add_months`` is monotone, so the eligible registrations form a prefix;
    month-end clamping can let up to three days past the naive answer qualify.
    """
    cutoff = add_months(as_of, -rules.new_point_months)
    while add_months(cutoff + timedelta(days=1), rules.new_point_months) <= as_of:
        cutoff += timedelta(days=1)
    return reference.day_index(cutoff)
