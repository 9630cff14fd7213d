"""The aq service's use cases: the persisted business calendar, meter point data and corrections.

Every change to a meter point happens in one database transaction that loads
its state, steps it, and writes the state, the day it was stepped through, its
history rows and its outbox events together. A crash anywhere rolls the whole
step back, so a restart resumes at the last committed day and no day is ever
stepped twice; a concurrent writer is detected by the optimistic lock.
"""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Optional

from sqlalchemy import Connection, Engine

from services.aq.adapters import repository as repo
from services.aq.adapters import tables as t
from services.aq.adapters.records import Records, records_of
from services.aq.domain.calculation import soq_kwh
from services.aq.domain.calendar import (
    DEFAULT_CALENDAR,
    CalendarRules,
    Confirmation,
    Correction,
    SupplyMeterPoint,
    decide_correction,
    step,
)
from services.aq.domain.dates import gas_year_start
from services.aq.domain.hh import HH_UNIT, HhChain, advance_chain
from services.aq.domain.overlay import overlay
from services.aq.domain.reference import ReferenceData
from services.aq.domain.synthetic import synthetic_reference
from shared.config import Settings
from shared.contracts import AQ_NOTIFICATIONS, AQ_RESULTS
from shared.contracts.events import SupplyPointChanged
from shared.hh import LONDON
from shared.outbox import enqueue

log = logging.getLogger(__name__)

#: Defaults for a point known only from portfolio's supply-point events (ops can override them).
DEFAULT_CONFIRMATION = Confirmation.CO
DEFAULT_CLASS = 3
DEFAULT_AQ_KWH = 0.0
#: Days a missing HH gas day may still arrive before the HH index chain restarts after it.
HH_GRACE_DAYS = 5


# ----------------------------------------------------------------------------- clock


def business_date(conn: Connection, settings: Settings) -> date:
    """The configured date (or today in Europe/London), moved forward by any operations advance."""
    base = settings.aq_business_date or datetime.now(LONDON).date()
    stored = repo.stored_business_date(conn)
    return max(base, stored) if stored else base


def advance_clock(conn: Connection, settings: Settings, to: date) -> date:
    """Move the business clock forward to ``to``; it never moves backwards."""
    current = business_date(conn, settings)
    if to < current:
        raise ValueError(f"the business clock is at {current}; it cannot move back to {to}")
    repo.store_business_date(conn, to)
    return to


# ---------------------------------------------------------------------- reference data


class ReferenceProvider:
    """The reference data in force: the shipped synthetic set spanning the business date,
    overlaid with whatever operations loaded. Rebuilt when either changes."""

    #: Gas years before the business date's covered: the longest read period (36 months) plus slack.
    YEARS_BACK = 4
    YEARS_AHEAD = 2

    def __init__(self, engine: Engine):
        self._engine = engine
        self._lock = threading.Lock()
        self._cached: Optional[tuple[tuple[int, int], ReferenceData]] = None
        self._generation = 0

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1

    def get(self, day: date) -> ReferenceData:
        first_year = gas_year_start(day).year - self.YEARS_BACK
        with self._lock:
            key = (first_year, self._generation)
            if self._cached is None or self._cached[0] != key:
                base = synthetic_reference(first_gas_year=first_year, gas_years=self.YEARS_BACK + self.YEARS_AHEAD)
                with self._engine.connect() as conn:
                    data, ignored = overlay(base, repo.alp_daf_rows(conn), repo.weather_rows(conn, "normal"),
                                            repo.weather_rows(conn, "actual"))
                if ignored:
                    log.warning("%d loaded reference rows fall outside gas years %d-%d or name unknown LDZ/EUC",
                                ignored, first_year, first_year + self.YEARS_BACK + self.YEARS_AHEAD)
                self._cached = (key, data)
            return self._cached[1]


# ------------------------------------------------------------------------ meter points

#: Attributes operations may set on a meter point (all optional on update).
POINT_FIELDS = ("confirmation", "meter_class", "ldz", "euc", "registered_on", "isolated", "reconnected_on",
                "backstop_date", "outstanding_offer", "confirmed_on", "aq_kwh", "formula_year_aq_kwh", "soq_kwh",
                "winter_consumption_kwh")


def new_point(mprn: str, ldz: str, registered_on: date, reference: ReferenceData, **attrs: Any) -> SupplyMeterPoint:
    """A point with the defaults for what nobody told us: class 3, CO, EUC and SOQ from its AQ."""
    aq = attrs.pop("aq_kwh", None)
    aq = DEFAULT_AQ_KWH if aq is None else aq
    meter_class = attrs.pop("meter_class", None) or DEFAULT_CLASS
    given = {k: v for k, v in attrs.items() if v is not None}
    return SupplyMeterPoint(
        mprn=mprn, ldz=ldz, registered_on=registered_on, aq_kwh=aq, meter_class=meter_class,
        confirmation=Confirmation(given.pop("confirmation", DEFAULT_CONFIRMATION)),
        euc=given.pop("euc", None) or reference.eucs.band_for(aq).code,
        formula_year_aq_kwh=given.pop("formula_year_aq_kwh", aq),
        soq_kwh=given.pop("soq_kwh", None) or soq_kwh(aq, meter_class, reference),
        **given,
    )


@dataclass(frozen=True)
class PointUpsert:
    record: repo.PointRecord
    created: bool


def put_point(conn: Connection, mprn: str, attrs: dict[str, Any], today: date, reference: ReferenceData,
              source: str = "ops") -> PointUpsert:
    """Create or update a point's AQ data (``attrs``: any of ``POINT_FIELDS``); pending calendar state is kept.

    A new point starts its calendar today: history before it is not replayed.
    Raises ``ValueError`` for data the domain refuses (an unknown LDZ or EUC, a bad class).
    """
    record = repo.load_point(conn, mprn)
    given = {k: v for k, v in attrs.items() if k in POINT_FIELDS and v is not None}
    if "ldz" in given and given["ldz"] not in reference.ldzs:
        raise ValueError(f"unknown LDZ {given['ldz']!r}")
    if "euc" in given and given["euc"] not in reference.eucs.codes:
        raise ValueError(f"unknown EUC {given['euc']!r}; known: {', '.join(reference.eucs.codes)}")
    if "confirmation" in given:
        given["confirmation"] = Confirmation(given["confirmation"])
    if record is None:
        sp = conn.execute(t.supply_points.select().where(t.supply_points.c.mpxn == mprn)).mappings().first()
        ldz = given.pop("ldz", None) or (sp["ldz"] if sp else None)
        registered_on = given.pop("registered_on", None) or (sp["registered_on"] if sp else None) or today
        if not ldz:
            raise ValueError(f"meter point {mprn} has no LDZ: give one (portfolio does not know it either)")
        state = new_point(mprn, ldz, registered_on, reference, **given)
        active = bool(sp["active"]) if sp else True
        record = repo.PointRecord(mprn, source, active, state, today - timedelta(days=1), HhChain(), 0)
        repo.save_point(conn, record)
        return PointUpsert(record, True)
    state = replace(record.state, **given)
    if "aq_kwh" in given and "euc" not in given:
        state = replace(state, euc=reference.eucs.band_for(state.aq_kwh).code)
    if "aq_kwh" in given and "soq_kwh" not in given:
        state = replace(state, soq_kwh=soq_kwh(state.aq_kwh, state.meter_class, reference) or state.soq_kwh)
    record.state, record.source = state, "ops" if source == "ops" else record.source
    repo.save_point(conn, record)
    return PointUpsert(record, False)


def apply_supply_points(conn: Connection, events: list[SupplyPointChanged], today: date,
                        reference: ReferenceData) -> None:
    """Learn gas points from portfolio: create unknown ones with defaults, follow activity and LDZ."""
    latest: dict[str, SupplyPointChanged] = {}
    for e in events:
        if e.fuel == "gas" and (e.mpxn not in latest or latest[e.mpxn].revision < e.revision):
            latest[e.mpxn] = e
    for e in latest.values():
        record = repo.load_point(conn, e.mpxn)
        if record is None:
            if not e.ldz or e.ldz not in reference.ldzs:
                log.warning("gas supply point %s has no known LDZ (%r); aq waits for operations data", e.mpxn, e.ldz)
                continue
            put_point(conn, e.mpxn, {}, today, reference, source="supply_point")
        elif record.active != e.active or (record.source == "supply_point" and e.ldz and e.ldz != record.state.ldz):
            if record.source == "supply_point" and e.ldz in reference.ldzs:
                record.state = replace(record.state, ldz=e.ldz)
            record.active = e.active
            repo.save_point(conn, record)


# --------------------------------------------------------------------------- calendar


def _step_through(conn: Connection, record: repo.PointRecord, through: date, reference: ReferenceData,
                  rules: CalendarRules) -> Records:
    """Step ``record`` day by day up to ``through``, offering reads as soon as their date allows."""
    out = Records()
    if record.processed_through >= through:
        return out
    pending = offered = repo.unoffered_reads(conn, record.mprn, through)
    hh_days = repo.gas_days_from(conn, record.mprn, record.chain.through)
    day = record.processed_through + timedelta(days=1)
    while day <= through:
        todays = [r for r in pending if r.read_date <= day]
        pending = [r for r in pending if r.read_date > day]
        if day.day == rules.close_out_day and hh_days:
            advance = advance_chain(record.chain, hh_days, day, HH_GRACE_DAYS)
            record.chain = advance.chain
            if advance.gap is not None:
                log.info("%s: HH gas day %s missing; HH index restarts at %s", record.mprn, advance.gap,
                         advance.chain.anchor)
                record.state = replace(record.state, reads=tuple(r for r in record.state.reads if r.unit != HH_UNIT),
                                       consumption_gap=advance.gap)
            todays += advance.reads
        record.state, outputs = step(record.state, day, reference, todays, (), rules)
        out.extend(records_of(outputs))
        day += timedelta(days=1)
    record.processed_through = through
    repo.mark_offered(conn, record.mprn, offered)
    return out


def _save(conn: Connection, record: repo.PointRecord, records: Records) -> None:
    repo.save_point(conn, record)  # first: takes the row lock, fails fast on a concurrent writer
    repo.insert_history(conn, records.history)
    enqueue(conn, t.outbox, AQ_RESULTS, records.results)
    enqueue(conn, t.outbox, AQ_NOTIFICATIONS, records.notifications)


def advance_point(conn: Connection, mprn: str, through: date, reference: ReferenceData,
                  rules: CalendarRules = DEFAULT_CALENDAR) -> int:
    """Step one point through ``through`` (inside the caller's transaction); returns history rows written."""
    record = repo.load_point(conn, mprn)
    if record is None or record.processed_through >= through:
        return 0
    records = _step_through(conn, record, through, reference, rules)
    _save(conn, record, records)
    return len(records.history)


def catch_up(engine: Engine, through: date, reference: ReferenceData, rules: CalendarRules = DEFAULT_CALENDAR) -> int:
    """Step every active point through ``through``, one transaction per point; returns points stepped."""
    stepped = 0
    while True:
        with engine.connect() as conn:
            behind = repo.points_behind(conn, through)
        if not behind:
            return stepped
        for mprn in behind:
            try:
                with engine.begin() as conn:
                    advance_point(conn, mprn, through, reference, rules)
                stepped += 1
            except repo.StaleState:
                log.info("%s changed concurrently; stepping it again", mprn)


# ------------------------------------------------------------------------- corrections


@dataclass(frozen=True)
class CorrectionOutcome:
    correction_id: str
    mprn: str
    reason: str
    aq_kwh: float
    submitted_on: date
    accepted: bool
    reason_code: str
    effective_from: Optional[date]


def submit_correction(conn: Connection, mprn: str, reason: str, aq_kwh: float, submitted_by: str, today: date,
                      reference: ReferenceData, rules: CalendarRules = DEFAULT_CALENDAR) -> Optional[CorrectionOutcome]:
    """Decide a correction on the business date (after catching the point up to it); ``None`` for an unknown point."""
    record = repo.load_point(conn, mprn)
    if record is None:
        return None
    records = _step_through(conn, record, today, reference, rules)
    correction = Correction(uuid.uuid4().hex, mprn, reason, aq_kwh)
    record.state, outputs = decide_correction(record.state, today, correction, reference, rules)
    records.extend(records_of(outputs, {correction.correction_id: correction}))
    _save(conn, record, records)
    decision = next(o for o in outputs if getattr(o, "correction_id", None) == correction.correction_id)
    outcome = CorrectionOutcome(correction.correction_id, mprn, reason, aq_kwh, today, decision.accepted,
                                decision.reason_code, decision.effective_from)
    repo.insert_correction(conn, {**outcome.__dict__, "submitted_by": submitted_by})
    return outcome
