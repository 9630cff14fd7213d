"""The Rolling AQ business calendar as a pure day-by-day state machine.

``step(point, day, reference, reads, corrections)`` advances one supply meter
point by one calendar day and returns its new state plus the outputs due that
day. The date is injected, never read from a clock, so a test can replay a
whole gas year by iterating days. Within a day the order is:

1. reads received that day are recorded;
2. on the 1st, anything effective that day goes live (rolling AQ, corrections,
   the 1 April formula-year AQ, the 1 October EUC and winter consumption);
3. on 1 December the formula-year snapshot is taken;
4. corrections are decided (after the snapshot, so a 1 December acceptance
   replaces it);
5. on the close-out day (10th) the AQ is calculated if a read arrived since the
   last close-out, and in May the winter consumption too;
6. at M-5 (5 calendar days before the next 1st) the notifications go out:
   NRL (T04) rows for CO/LI, TRF rows for RQ, failure notices, S91 offer
   addenda, and in May/September T50/T51 with the September review.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Iterable, Optional, Sequence, Union

from services.aq.domain.calculation import (
    DEFAULT_RULES,
    AqRules,
    FailureReason,
    PointFacts,
    ReadPeriod,
    calculate_aq,
    calculate_winter_consumption,
    register_energy_kwh,
    soq_kwh,
)
from services.aq.domain.dates import add_months, first_of_next_month
from services.aq.domain.reference import ReferenceData


class Confirmation(StrEnum):
    """Supply point confirmation status: CO/LI get NRL rows, RQ goes through TRF."""

    CO = "CO"
    LI = "LI"
    RQ = "RQ"


class CorrectionReason(StrEnum):
    """The reasons an AQ correction may be submitted for (seed 002)."""

    CONFIRMED_THEFT = "confirmed_theft"
    CHANGE_IN_CONSUMER_PLANT = "change_in_consumer_plant"
    NEW_BUSINESS = "commencement_of_new_business"
    READ_TOLERANCE_FAILURE = "read_tolerance_failure"
    WINTER_CONSUMPTION_CORRECTION = "winter_consumption_correction"


@dataclass(frozen=True)
class CalendarRules:
    """Calendar parameters; *reconstructed* values are marked."""

    close_out_day: int = 10
    notice_days: int = 5
    snapshot_month: int = 12
    formula_year_month: int = 4
    euc_month: int = 10
    winter_calculation_month: int = 5
    new_business_window_months: int = 3
    #: Reads older than this are dropped from the state (longest period + slack).
    read_history_months: int = 37
    #: *Reconstructed*: the winter whose consumption is measured, Dec to Mar.
    winter_first_month: int = 12
    winter_months: int = 4
    #: *Reconstructed*: how far before the winter a start read may lie.
    winter_start_read_months: int = 2
    #: *Reconstructed*: winter consumption only for NDM points above this AQ (EUC band 3 up).
    winter_min_aq_kwh: float = 293_000
    winter_classes: frozenset[int] = frozenset({3, 4})
    #: Corrections change the formula-year AQ for these classes (seed: class 3 and 4).
    formula_year_classes: frozenset[int] = frozenset({3, 4})
    aq: AqRules = DEFAULT_RULES


DEFAULT_CALENDAR = CalendarRules()


# ------------------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class Read:
    """A valid meter index: register reads in m3 or kWh; HH points send a cumulative kWh index."""

    read_date: date
    index: float
    unit: str = "m3"


@dataclass(frozen=True)
class Correction:
    """An AQ correction submitted through the API."""

    correction_id: str
    mprn: str
    reason: str
    aq_kwh: float


# ------------------------------------------------------------------------------- state


@dataclass(frozen=True)
class PendingAq:
    """A calculated or corrected AQ waiting for its go-live day."""

    aq_kwh: float
    effective_from: date
    read_start: Optional[date] = None
    read_end: Optional[date] = None


@dataclass(frozen=True)
class PendingFailure:
    """A failed calculation waiting for its M-5 notification."""

    reason: FailureReason
    previous_aq_kwh: float
    read_start: Optional[date]
    read_end: Optional[date]


@dataclass(frozen=True)
class SupplyMeterPoint:
    """Everything the calendar knows about one gas supply meter point."""

    mprn: str
    confirmation: Confirmation
    meter_class: int
    ldz: str
    euc: str
    registered_on: date
    aq_kwh: float
    formula_year_aq_kwh: float
    soq_kwh: Optional[float] = None
    isolated: bool = False
    reconnected_on: Optional[date] = None
    backstop_date: Optional[date] = None
    outstanding_offer: bool = False
    confirmed_on: Optional[date] = None
    winter_consumption_kwh: Optional[float] = None
    reads: tuple[Read, ...] = ()
    #: The latest missing HH gas day that restarted the HH index: the reads before it were dropped.
    consumption_gap: Optional[date] = None
    read_since_close_out: bool = False
    pending_aq: Optional[PendingAq] = None
    pending_failure: Optional[PendingFailure] = None
    pending_correction: Optional[PendingAq] = None
    snapshot_aq_kwh: Optional[float] = None
    proposed_winter_consumption_kwh: Optional[float] = None
    winter_failure: Optional[FailureReason] = None
    pending_euc: Optional[str] = None

    def __post_init__(self) -> None:
        if self.meter_class not in (1, 2, 3, 4):
            raise ValueError(f"meter class must be 1-4, got {self.meter_class}")

    def facts(self) -> PointFacts:
        return PointFacts(
            ldz=self.ldz,
            euc=self.euc,
            meter_class=self.meter_class,
            registered_on=self.registered_on,
            isolated=self.isolated,
            backstop_date=self.backstop_date,
            reconnected_on=self.reconnected_on,
            consumption_gap=self.consumption_gap,
        )


# ----------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class NrlRow:
    """T04 record of the NRL issued at M-5 for CO/LI confirmations."""

    mprn: str
    issued_on: date
    effective_from: date
    confirmation: Confirmation
    meter_class: int
    aq_kwh: float
    soq_kwh: Optional[float]
    euc: str
    formula_year_aq_kwh: float
    #: Proposed winter consumption for 1 October (May and September NRLs only).
    winter_consumption_kwh: Optional[float]


@dataclass(frozen=True)
class TrfRow(NrlRow):
    """The same notification for an RQ confirmation, carried by the transfer (TRF) process."""


@dataclass(frozen=True)
class OfferAddendum:
    """S91: an outstanding offer must be revised because the formula-year AQ or EUC changed."""

    mprn: str
    issued_on: date
    reason: str
    formula_year_aq_kwh: float
    euc: str


@dataclass(frozen=True)
class AqCalculated:
    """A rolling AQ calculated at close-out, live from ``effective_from``."""

    mprn: str
    calculated_on: date
    aq_kwh: float
    previous_aq_kwh: float
    euc: str
    soq_kwh: Optional[float]
    effective_from: date
    read_start: date
    read_end: date


@dataclass(frozen=True)
class AqFailureNotice:
    """The AQ could not be calculated; the previous AQ stays (issued at M-5)."""

    mprn: str
    issued_on: date
    reason: FailureReason
    previous_aq_kwh: float
    read_start: Optional[date]
    read_end: Optional[date]


@dataclass(frozen=True)
class FormulaYearSnapshot:
    """1 December snapshot that becomes the formula-year AQ on 1 April."""

    mprn: str
    taken_on: date
    aq_kwh: float
    effective_from: date


@dataclass(frozen=True)
class CorrectionDecision:
    """Outcome of a correction; ``effective_from`` only when accepted."""

    correction_id: str
    mprn: str
    decided_on: date
    accepted: bool
    reason_code: str
    effective_from: Optional[date] = None


@dataclass(frozen=True)
class WinterConsumptionSuccess:
    """T50: winter consumption calculated (value proposed for 1 October)."""

    mprn: str
    issued_on: date
    winter_consumption_kwh: float
    effective_from: date


@dataclass(frozen=True)
class WinterConsumptionFailure:
    """T51: winter consumption could not be calculated."""

    mprn: str
    issued_on: date
    reason: FailureReason


Output = Union[
    NrlRow,
    OfferAddendum,
    AqCalculated,
    AqFailureNotice,
    FormulaYearSnapshot,
    CorrectionDecision,
    WinterConsumptionSuccess,
    WinterConsumptionFailure,
]


# -------------------------------------------------------------------------------- step


def step(
    point: SupplyMeterPoint,
    day: date,
    reference: ReferenceData,
    reads: Sequence[Read] = (),
    corrections: Sequence[Correction] = (),
    rules: CalendarRules = DEFAULT_CALENDAR,
) -> tuple[SupplyMeterPoint, list[Output]]:
    """Advance ``point`` through ``day``: record inputs, then run whatever the calendar makes due."""
    outputs: list[Output] = []
    if reads:
        point = _record_reads(point, day, reads, rules)
    if day.day == 1:
        point = _go_live(point, day, reference, rules)
    if (day.month, day.day) == (rules.snapshot_month, 1):
        point = replace(point, snapshot_aq_kwh=point.aq_kwh)
        effective = date(day.year + 1, rules.formula_year_month, 1)
        outputs.append(FormulaYearSnapshot(point.mprn, day, point.aq_kwh, effective))
    for correction in corrections:
        point, decided = _decide_correction(point, day, correction, reference, rules)
        outputs.extend(decided)
    if day.day == rules.close_out_day:
        point, closed = _close_out(point, day, reference, rules)
        outputs.extend(closed)
    if day == notice_day(day, rules):
        point, notices = _notify(point, day, reference, rules)
        outputs.extend(notices)
    return point, outputs


def notice_day(day: date, rules: CalendarRules = DEFAULT_CALENDAR) -> date:
    """M-5 of the go-live day following ``day``: when that month's notifications are issued."""
    return first_of_next_month(day) - timedelta(days=rules.notice_days)


def _record_reads(point: SupplyMeterPoint, day: date, reads: Iterable[Read], rules: CalendarRules) -> SupplyMeterPoint:
    """Keep one read per date (the latest received wins) and drop reads too old to use."""
    by_date = {r.read_date: r for r in point.reads}
    by_date.update({r.read_date: r for r in reads if r.read_date <= day})
    oldest = add_months(day, -rules.read_history_months)
    kept = tuple(sorted((r for r in by_date.values() if r.read_date >= oldest), key=lambda r: r.read_date))
    return replace(point, reads=kept, read_since_close_out=True)


def _go_live(point: SupplyMeterPoint, day: date, reference: ReferenceData, rules: CalendarRules) -> SupplyMeterPoint:
    """Apply what becomes effective on this 1st, corrections last because they are the newest decision."""
    if point.pending_aq and point.pending_aq.effective_from <= day:
        point = replace(point, aq_kwh=point.pending_aq.aq_kwh, pending_aq=None)
    if day.month == rules.formula_year_month and point.snapshot_aq_kwh is not None:
        point = replace(point, formula_year_aq_kwh=point.snapshot_aq_kwh, snapshot_aq_kwh=None)
    if point.pending_correction and point.pending_correction.effective_from <= day:
        corrected = point.pending_correction.aq_kwh
        formula_year = corrected if point.meter_class in rules.formula_year_classes else point.formula_year_aq_kwh
        point = replace(point, aq_kwh=corrected, formula_year_aq_kwh=formula_year, pending_correction=None)
    if day.month == rules.euc_month:
        point = replace(
            point,
            euc=point.pending_euc or point.euc,
            pending_euc=None,
            winter_consumption_kwh=point.proposed_winter_consumption_kwh,
            proposed_winter_consumption_kwh=None,
            winter_failure=None,
        )
    derived = soq_kwh(point.aq_kwh, point.meter_class, reference, rules.aq)
    return replace(point, soq_kwh=derived if derived is not None else point.soq_kwh)


# ---------------------------------------------------------------------- corrections


def _decide_correction(
    point: SupplyMeterPoint, day: date, correction: Correction, reference: ReferenceData, rules: CalendarRules
) -> tuple[SupplyMeterPoint, list[Output]]:
    """Accept or reject; an acceptance sets the backstop, may replace the snapshot and triggers S91."""
    rejection = correction_rejection(point, day, correction, rules)
    if rejection is not None:
        return point, [CorrectionDecision(correction.correction_id, point.mprn, day, False, rejection)]
    effective = first_of_next_month(day)
    point = replace(
        point,
        pending_correction=PendingAq(correction.aq_kwh, effective),
        backstop_date=day,
        snapshot_aq_kwh=correction.aq_kwh if in_snapshot_window(day, rules) else point.snapshot_aq_kwh,
    )
    outputs: list[Output] = [CorrectionDecision(correction.correction_id, point.mprn, day, True, "accepted", effective)]
    if point.outstanding_offer:
        euc = reference.eucs.band_for(correction.aq_kwh).code
        outputs.append(OfferAddendum(point.mprn, day, "correction", correction.aq_kwh, euc))
    return point, outputs


def decide_correction(
    point: SupplyMeterPoint,
    day: date,
    correction: Correction,
    reference: ReferenceData,
    rules: CalendarRules = DEFAULT_CALENDAR,
) -> tuple[SupplyMeterPoint, list[Output]]:
    """Decide a correction submitted after ``day`` was stepped (through the API), as ``step`` would."""
    return _decide_correction(point, day, correction, reference, rules)


def correction_rejection(
    point: SupplyMeterPoint, day: date, correction: Correction, rules: CalendarRules = DEFAULT_CALENDAR
) -> Optional[str]:
    """Reason code for rejecting a correction, or ``None`` when it is acceptable."""
    if correction.mprn != point.mprn:
        return "unknown_mprn"
    if correction.reason not in set(CorrectionReason):
        return "unknown_reason"
    if not (math.isfinite(correction.aq_kwh) and correction.aq_kwh > 0):
        return "invalid_aq"
    if point.isolated:
        return "isolated"
    if correction.reason == CorrectionReason.NEW_BUSINESS and (
        point.confirmed_on is None or day > add_months(point.confirmed_on, rules.new_business_window_months)
    ):
        return "new_business_window_expired"
    return None


def in_snapshot_window(day: date, rules: CalendarRules = DEFAULT_CALENDAR) -> bool:
    """Whether ``day`` lies between 1 December and the March close-out (inclusive)."""
    if day.month == rules.snapshot_month or day.month < 3:
        return True
    return day.month == 3 and day.day <= rules.close_out_day


# ---------------------------------------------------------------------- close-out


def select_read_period(point: SupplyMeterPoint, reference: ReferenceData) -> ReadPeriod:
    """The latest read as end read; as start, the latest read a year or more before it, else the earliest.

    Aiming for a year evens out the profile; falling back to the longest
    available period lets the 9-month rule decide instead of silently skipping.
    """
    if len(point.reads) < 2:
        return ReadPeriod(None, point.reads[-1].read_date if point.reads else None, None)
    end = point.reads[-1]
    year_before = [r for r in point.reads[:-1] if add_months(r.read_date, 12) <= end.read_date]
    start = year_before[-1] if year_before else point.reads[0]
    return ReadPeriod(start.read_date, end.read_date, _energy(start, end, point.ldz, reference))


def _energy(start: Read, end: Read, ldz: str, reference: ReferenceData) -> float:
    if start.unit != end.unit:
        raise ValueError(f"reads in different units: {start.unit} and {end.unit}")
    return register_energy_kwh(start.index, end.index, end.unit, reference.cv(ldz), reference)


def _close_out(
    point: SupplyMeterPoint, day: date, reference: ReferenceData, rules: CalendarRules
) -> tuple[SupplyMeterPoint, list[Output]]:
    outputs: list[Output] = []
    if point.read_since_close_out:
        point, calculated = _calculate(point, day, reference, rules)
        outputs.extend(calculated)
    if day.month == rules.winter_calculation_month:
        point = _calculate_winter_consumption(point, day, reference, rules)
    return point, outputs


def _calculate(
    point: SupplyMeterPoint, day: date, reference: ReferenceData, rules: CalendarRules
) -> tuple[SupplyMeterPoint, list[Output]]:
    period = select_read_period(point, reference)
    outcome = calculate_aq(point.facts(), period, reference, day, point.aq_kwh, rules.aq)
    point = replace(point, read_since_close_out=False)
    if outcome.reason is not None:
        failure = PendingFailure(outcome.reason, point.aq_kwh, period.start, period.end)
        return replace(point, pending_failure=failure), []
    assert period.start is not None and period.end is not None
    effective = first_of_next_month(day)
    pending = PendingAq(outcome.aq_kwh, effective, period.start, period.end)
    calculated = AqCalculated(
        point.mprn, day, outcome.aq_kwh, point.aq_kwh, outcome.euc, outcome.soq_kwh, effective, period.start, period.end
    )
    return replace(point, pending_aq=pending, pending_failure=None), [calculated]


def winter_window(day: date, rules: CalendarRules = DEFAULT_CALENDAR) -> tuple[date, date]:
    """[start, end) of the most recent winter that ended on or before ``day``."""
    year = day.year if day.month >= rules.winter_first_month else day.year - 1
    start = date(year, rules.winter_first_month, 1)
    end = add_months(start, rules.winter_months)
    return (start, end) if end <= day else (add_months(start, -12), add_months(end, -12))


def _calculate_winter_consumption(
    point: SupplyMeterPoint, day: date, reference: ReferenceData, rules: CalendarRules
) -> SupplyMeterPoint:
    """Propose the winter consumption for 1 October from reads bracketing the last winter."""
    if point.meter_class not in rules.winter_classes or point.aq_kwh <= rules.winter_min_aq_kwh:
        return replace(point, proposed_winter_consumption_kwh=None, winter_failure=None)
    winter_start, winter_end = winter_window(day, rules)
    earliest = add_months(winter_start, -rules.winter_start_read_months)
    before = [r for r in point.reads if earliest <= r.read_date <= winter_start]
    after = [r for r in point.reads if winter_end <= r.read_date <= day]
    if before and after:
        start, end = before[-1], after[0]
        period = ReadPeriod(start.read_date, end.read_date, _energy(start, end, point.ldz, reference))
    else:
        period = ReadPeriod(None, None, None)
    value, failure = calculate_winter_consumption(point.facts(), period, reference, winter_start, winter_end)
    return replace(point, proposed_winter_consumption_kwh=value, winter_failure=failure)


# -------------------------------------------------------------------------- notices


def _notify(
    point: SupplyMeterPoint, day: date, reference: ReferenceData, rules: CalendarRules
) -> tuple[SupplyMeterPoint, list[Output]]:
    """Everything issued at M-5 for the go-live day ``day + notice_days``."""
    go_live = first_of_next_month(day)
    outputs: list[Output] = []
    aq = _aq_at(point, go_live)
    formula_year = _formula_year_at(point, go_live, rules)
    euc = point.euc
    if go_live.month == rules.euc_month:
        euc = reference.eucs.band_for(aq).code
        point = replace(point, pending_euc=euc)
    winter_notice = day.month == rules.winter_calculation_month or go_live.month == rules.euc_month
    if go_live.month == rules.euc_month and point.proposed_winter_consumption_kwh is not None:
        point = replace(point, proposed_winter_consumption_kwh=min(point.proposed_winter_consumption_kwh, aq))

    formula_year_changes = formula_year != point.formula_year_aq_kwh
    if point.pending_failure is not None:
        f = point.pending_failure
        outputs.append(AqFailureNotice(point.mprn, day, f.reason, f.previous_aq_kwh, f.read_start, f.read_end))
        point = replace(point, pending_failure=None)
    newly_calculated = point.pending_aq is not None and point.pending_aq.effective_from == go_live
    if newly_calculated or formula_year_changes or euc != point.euc or winter_notice:
        row_type = TrfRow if point.confirmation == Confirmation.RQ else NrlRow
        outputs.append(
            row_type(
                mprn=point.mprn,
                issued_on=day,
                effective_from=go_live,
                confirmation=point.confirmation,
                meter_class=point.meter_class,
                aq_kwh=aq,
                soq_kwh=soq_kwh(aq, point.meter_class, reference, rules.aq),
                euc=euc,
                formula_year_aq_kwh=formula_year,
                winter_consumption_kwh=point.proposed_winter_consumption_kwh if winter_notice else None,
            )
        )
    if point.outstanding_offer and (euc != point.euc or (formula_year_changes and point.pending_correction is None)):
        reason = "euc" if euc != point.euc else "formula_year_aq"
        outputs.append(OfferAddendum(point.mprn, day, reason, formula_year, euc))
    if winter_notice:
        outputs.extend(_winter_notices(point, day, go_live, rules))
    return point, outputs


def _winter_notices(point: SupplyMeterPoint, day: date, go_live: date, rules: CalendarRules) -> list[Output]:
    """T50 for a proposed value, T51 for a failure; re-issued in September after the review."""
    if point.proposed_winter_consumption_kwh is not None:
        effective = date(go_live.year if go_live.month <= rules.euc_month else go_live.year + 1, rules.euc_month, 1)
        return [WinterConsumptionSuccess(point.mprn, day, point.proposed_winter_consumption_kwh, effective)]
    if point.winter_failure is not None:
        return [WinterConsumptionFailure(point.mprn, day, point.winter_failure)]
    return []


def _aq_at(point: SupplyMeterPoint, go_live: date) -> float:
    """The AQ that will be in force on ``go_live`` (a correction beats a calculation)."""
    for pending in (point.pending_correction, point.pending_aq):
        if pending is not None and pending.effective_from <= go_live:
            return pending.aq_kwh
    return point.aq_kwh


def _formula_year_at(point: SupplyMeterPoint, go_live: date, rules: CalendarRules) -> float:
    """The formula-year AQ that will be in force on ``go_live``."""
    pending = point.pending_correction
    if pending is not None and pending.effective_from <= go_live and point.meter_class in rules.formula_year_classes:
        return pending.aq_kwh
    if go_live.month == rules.formula_year_month and point.snapshot_aq_kwh is not None:
        return point.snapshot_aq_kwh
    return point.formula_year_aq_kwh


# ----------------------------------------------------------------------------- export

NRL_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(NrlRow))


def nrl_csv(rows: Iterable[NrlRow]) -> str:
    """The monthly NRL-style export: one line per row, AQ/SOQ/WC in whole kWh, blanks for none."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("record_type", *NRL_COLUMNS))
    for row in rows:
        record = "TRF" if isinstance(row, TrfRow) else "T04"
        writer.writerow((record, *(_cell(getattr(row, name)) for name in NRL_COLUMNS)))
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.0f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
