"""Tracker evaluation: reads in, notifications recorded exactly once.

Runs inside the caller's database transaction: the daily totals, the
idempotency keys and the outbox rows commit together, so a crash anywhere
either keeps all of it or none (and the redelivered reads redo it).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import Connection

from services.alerts.adapters import notifications as notes
from services.alerts.adapters import repository as repo
from services.alerts.adapters import trackers as store
from services.alerts.domain.messages import render_tracker, to_notification
from services.alerts.domain.trackers import (
    AlertKind, Tracker, TrackerPeriod, TrackerProgress, alert_key, evaluate_tracker, tracker_period, tracker_progress,
)
from shared.contracts.events import MeterDayRead, Notification

RECENT_DAYS = 14


def tracker_link(tracker_id: str) -> str:
    return f"/trackers/{tracker_id}"


def _window(period: TrackerPeriod, today: date) -> tuple[date, date]:
    return min(period.start, today - timedelta(days=RECENT_DAYS)), max(period.end, today)


def evaluate_period(conn: Connection, row, day: date, today: date, now: datetime) -> list[Notification]:
    """Evaluate the tracker's period containing ``day``; record the alerts now due."""
    tracker = store.to_domain(row)
    period = tracker_period(tracker, day)
    if period is None:
        return []
    daily = store.scope_daily(conn, row, *_window(period, today))
    sent = notes.sent_keys(conn, [alert_key(tracker.tracker_id, period, kind) for kind in AlertKind])
    evaluation = evaluate_tracker(tracker, day, today, daily, sent, RECENT_DAYS)
    recorded = []
    for alert in evaluation.alerts if evaluation else ():
        notification = to_notification(
            render_tracker(tracker, alert, tracker_link(tracker.tracker_id)),
            notification_id=alert.idempotency_key, kind=alert.kind.value, recipient=row.owner_user_id,
            channels=notes.channels_for(conn, row.owner_user_id, now), rule_id=tracker.tracker_id,
            period=period.label, created_at=now, email=row.owner_email,
        )
        if notes.record(conn, notification):
            recorded.append(notification)
    return recorded


def on_reads(conn: Connection, reads: list[MeterDayRead], today: date, now: datetime) -> list[Notification]:
    """Store the reads' daily totals and re-evaluate every tracker period they touch
    (late or revised data re-evaluates the past period it belongs to)."""
    repo.store_daily_usage(conn, reads)
    days: dict[str, set[date]] = defaultdict(set)
    for r in reads:
        days[r.mpxn].add(r.settlement_date)
    recorded: list[Notification] = []
    for row, mpxns in store.watching(conn, list(days)):
        if row.paused:
            continue
        tracker = store.to_domain(row)
        first_day_of: dict[str, date] = {}
        for d in sorted(set().union(*(days[m] for m in mpxns))):
            if (period := tracker_period(tracker, d)) is not None:
                first_day_of.setdefault(period.label, d)
        for d in first_day_of.values():
            recorded += evaluate_period(conn, row, d, today, now)
    return recorded


def current_period(tracker: Tracker, today: date) -> TrackerPeriod:
    """The period shown as progress: today's, or a custom range's nearest end."""
    if tracker.period != "custom":
        return tracker_period(tracker, today)  # type: ignore[return-value]
    assert tracker.custom_start is not None and tracker.custom_end is not None
    on = min(max(today, tracker.custom_start), tracker.custom_end)
    return tracker_period(tracker, on)  # type: ignore[return-value]


def progress(conn: Connection, row, today: date) -> TrackerProgress:
    tracker = store.to_domain(row)
    period = current_period(tracker, today)
    daily = store.scope_daily(conn, row, *_window(period, today))
    return tracker_progress(tracker, period, today, daily, RECENT_DAYS)
