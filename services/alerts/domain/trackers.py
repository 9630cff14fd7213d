"""Consumption trackers (seed 000): "notify me when I exceed my amount".

A tracker watches a site or a portfolio for one fuel over a repeating period
(day, Monday-start week, calendar month) or a one-off custom range of local
Europe/London days. Two notifications exist per period: ``exceeded`` when
actual consumption passes the amount and ``projected`` as an early warning
when the projection for the period says it will. Each carries an idempotency
key of (tracker, period, kind), so it is delivered at most once per period
and the tracker re-arms when the next period starts. Evaluation is a pure
function of daily totals, so late or revised data simply re-evaluates.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from shared.hh import local_midnight_utc

Scope = Literal["site", "portfolio"]
TrackerFuel = Literal["electricity", "gas"]
PeriodKind = Literal["day", "week", "month", "custom"]
Unit = Literal["kWh", "money"]


class AlertKind(StrEnum):
    EXCEEDED = "tracker_exceeded"
    PROJECTED = "tracker_projected"


class TrackerError(ValueError):
    """A tracker definition the API must refuse (422); ``str()`` is user-facing."""


@dataclass(frozen=True)
class Tracker:
    """A user's tracker; ``amount`` is kWh, or money in ``currency``."""

    tracker_id: str
    name: str
    scope: Scope
    scope_id: str
    fuel: TrackerFuel
    period: PeriodKind
    amount: Decimal
    unit: Unit = "kWh"
    currency: str = "GBP"
    custom_start: date | None = None
    custom_end: date | None = None
    paused: bool = False


@dataclass(frozen=True)
class TrackerPeriod:
    """Local days ``start`` (inclusive) to ``end`` (exclusive)."""

    start: date
    end: date
    label: str

    @property
    def start_utc(self) -> datetime:
        return local_midnight_utc(self.start)

    @property
    def end_utc(self) -> datetime:
        return local_midnight_utc(self.end)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]


@dataclass(frozen=True)
class TrackerProgress:
    """Progress to date for the API and for message text."""

    tracker_id: str
    period: TrackerPeriod
    amount: float
    actual: float
    projected: float | None
    percent: float
    projected_percent: float | None
    days_with_data: int


@dataclass(frozen=True)
class TrackerAlert:
    kind: AlertKind
    idempotency_key: str
    progress: TrackerProgress


@dataclass(frozen=True)
class TrackerEvaluation:
    progress: TrackerProgress
    alerts: tuple[TrackerAlert, ...]


def validate_tracker(tracker: Tracker, tariff_known: bool) -> Tracker:
    """Refuse trackers that could never be evaluated sensibly."""
    if not tracker.amount.is_finite() or tracker.amount <= 0:
        raise TrackerError("The tracker amount must be greater than zero.")
    if tracker.unit == "money" and not tariff_known:
        raise TrackerError("A tracker in money needs a known tariff; use kWh instead.")
    if tracker.period == "custom":
        if tracker.custom_start is None or tracker.custom_end is None:
            raise TrackerError("A custom tracker needs a start and an end date.")
        if tracker.custom_end < tracker.custom_start:
            raise TrackerError("The custom range must end on or after its start.")
    elif tracker.custom_start is not None or tracker.custom_end is not None:
        raise TrackerError("Only custom trackers take a date range.")
    return tracker


def _add_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def tracker_period(tracker: Tracker, on: date) -> TrackerPeriod | None:
    """The period of ``tracker`` containing local day ``on``.

    ``None`` for a custom tracker outside its range: custom ranges are one-off
    and do not re-arm.
    """
    if tracker.period == "day":
        return TrackerPeriod(on, on + timedelta(days=1), on.isoformat())
    if tracker.period == "week":
        start = on - timedelta(days=on.weekday())
        year, week, _ = start.isocalendar()
        return TrackerPeriod(start, start + timedelta(days=7), f"{year}-W{week:02d}")
    if tracker.period == "month":
        start = on.replace(day=1)
        return TrackerPeriod(start, _add_month(start), f"{start:%Y-%m}")
    assert tracker.custom_start is not None and tracker.custom_end is not None
    if not tracker.custom_start <= on <= tracker.custom_end:
        return None
    end = tracker.custom_end + timedelta(days=1)
    return TrackerPeriod(tracker.custom_start, end, f"{tracker.custom_start}/{tracker.custom_end}")


def alert_key(tracker_id: str, period: TrackerPeriod, kind: AlertKind) -> str:
    """At most one notification per (tracker, period, kind)."""
    return f"{kind.value}:{tracker_id}:{period.label}"


def tracker_progress(
    tracker: Tracker,
    period: TrackerPeriod,
    as_of: date,
    daily: Mapping[date, float],
    recent_days: int = 14,
) -> TrackerProgress:
    """Consumption to date and the projection for the whole period.

    ``daily`` holds the scope's local-day totals in the tracker's unit (any
    days; days without data are absent). ``as_of`` is the first day with no
    data expected yet. Days of the period still to come, and elapsed days
    without data, are projected at the mean of the days with data in the
    ``recent_days`` before ``as_of``. No projection before the period starts
    or when there is no recent data.
    """
    amount = float(tracker.amount)
    in_period = [d for d in period.days() if d < as_of]
    with_data = [d for d in in_period if d in daily]
    actual = sum(daily[d] for d in with_data)
    window = [as_of - timedelta(days=i) for i in range(1, recent_days + 1)]
    recent = [daily[d] for d in window if d in daily]
    projected: float | None = None
    if in_period and recent:
        to_project = len(period.days()) - len(with_data)
        projected = actual + sum(recent) / len(recent) * to_project
    return TrackerProgress(
        tracker_id=tracker.tracker_id,
        period=period,
        amount=amount,
        actual=actual,
        projected=projected,
        percent=100 * actual / amount,
        projected_percent=None if projected is None else 100 * projected / amount,
        days_with_data=len(with_data),
    )


def evaluate_tracker(
    tracker: Tracker,
    day: date,
    as_of: date,
    daily: Mapping[date, float],
    sent: Collection[str] = (),
    recent_days: int = 14,
) -> TrackerEvaluation | None:
    """Progress of the period containing ``day`` and the alerts now due.

    ``day`` is the local day whose data arrived or was revised, so late data
    re-evaluates the (possibly past) period it belongs to; ``as_of`` is the
    first day with no data expected yet. ``sent`` holds idempotency keys
    already delivered; due alerts with such a key are dropped. When the
    amount is already exceeded, or the period is over, the early warning is
    pointless and is not sent. Paused trackers report progress but alert
    nothing. ``None`` when ``day`` is outside a custom tracker's range.
    """
    period = tracker_period(tracker, day)
    if period is None:
        return None
    progress = tracker_progress(tracker, period, as_of, daily, recent_days)
    if tracker.paused:
        return TrackerEvaluation(progress, ())
    due: list[AlertKind] = []
    if progress.actual > progress.amount:
        due.append(AlertKind.EXCEEDED)
    elif as_of < period.end and progress.projected is not None and progress.projected > progress.amount:
        due.append(AlertKind.PROJECTED)
    alerts = tuple(
        TrackerAlert(kind, key, progress)
        for kind in due
        if (key := alert_key(tracker.tracker_id, period, kind)) not in sent
    )
    return TrackerEvaluation(progress, alerts)
