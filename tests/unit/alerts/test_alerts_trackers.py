"""Consumption trackers (seed 000): periods, progress, once-per-period alerts, re-arm."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from shared.hh import settlement_date_of
from services.alerts.domain.trackers import (
    AlertKind,
    Tracker,
    TrackerError,
    TrackerPeriod,
    alert_key,
    evaluate_tracker,
    tracker_period,
    tracker_progress,
    validate_tracker,
)

MONTHLY = Tracker("T1", "Office power", "site", "S1", "electricity", "month", Decimal("500"))
OCTOBER = TrackerPeriod(date(2024, 10, 1), date(2024, 11, 1), "2024-10")


def _daily(start: date, end: date, kwh: float) -> dict[date, float]:
    return {start + timedelta(days=i): kwh for i in range((end - start).days)}


@pytest.mark.parametrize(
    ("period", "on", "start", "end", "label"),
    [
        pytest.param("day", date(2024, 10, 27), date(2024, 10, 27), date(2024, 10, 28), "2024-10-27", id="day"),
        pytest.param("week", date(2024, 10, 2), date(2024, 9, 30), date(2024, 10, 7), "2024-W40", id="week-midweek"),
        pytest.param("week", date(2024, 10, 6), date(2024, 9, 30), date(2024, 10, 7), "2024-W40", id="week-sunday"),
        pytest.param("week", date(2024, 12, 31), date(2024, 12, 30), date(2025, 1, 6), "2025-W01", id="week-iso-year"),
        pytest.param("month", date(2024, 10, 31), date(2024, 10, 1), date(2024, 11, 1), "2024-10", id="month"),
        pytest.param("month", date(2024, 12, 5), date(2024, 12, 1), date(2025, 1, 1), "2024-12", id="month-december"),
    ],
)
def test_repeating_periods(period: str, on: date, start: date, end: date, label: str) -> None:
    tracker = replace(MONTHLY, period=period)
    assert tracker_period(tracker, on) == TrackerPeriod(start, end, label)


CUSTOM = replace(MONTHLY, period="custom", custom_start=date(2024, 10, 10), custom_end=date(2024, 10, 20))


@pytest.mark.parametrize(
    ("on", "inside"),
    [
        pytest.param(date(2024, 10, 9), False, id="before"),
        pytest.param(date(2024, 10, 10), True, id="first-day"),
        pytest.param(date(2024, 10, 20), True, id="last-day-inclusive"),
        pytest.param(date(2024, 10, 21), False, id="after-no-rearm"),
    ],
)
def test_custom_range(on: date, inside: bool) -> None:
    period = tracker_period(CUSTOM, on)
    expected = TrackerPeriod(date(2024, 10, 10), date(2024, 10, 21), "2024-10-10/2024-10-20")
    assert period == (expected if inside else None)


def test_period_boundaries_are_london_local_days() -> None:
    # October 2024 starts in BST and ends in GMT.
    assert OCTOBER.start_utc == datetime(2024, 9, 30, 23, 0, tzinfo=timezone.utc)
    assert OCTOBER.end_utc == datetime(2024, 11, 1, 0, 0, tzinfo=timezone.utc)
    clock_change = tracker_period(replace(MONTHLY, period="day"), date(2024, 10, 27))
    assert clock_change is not None
    assert clock_change.end_utc - clock_change.start_utc == timedelta(hours=25)


def test_utc_instant_maps_to_its_local_day() -> None:
    # 23:30 UTC on 30 June is 00:30 BST on 1 July.
    period = tracker_period(MONTHLY, settlement_date_of(datetime(2024, 6, 30, 23, 30, tzinfo=timezone.utc)))
    assert period is not None and period.label == "2024-07"


def test_progress_to_date() -> None:
    progress = tracker_progress(MONTHLY, OCTOBER, date(2024, 10, 11), _daily(date(2024, 9, 27), date(2024, 10, 11), 10.0))
    assert progress.actual == pytest.approx(100)
    assert progress.percent == pytest.approx(20)
    assert progress.projected == pytest.approx(310)
    assert progress.projected_percent == pytest.approx(62)
    assert progress.days_with_data == 10


def test_progress_before_any_day_of_the_period_has_no_projection() -> None:
    progress = tracker_progress(MONTHLY, OCTOBER, date(2024, 10, 1), _daily(date(2024, 9, 1), date(2024, 10, 1), 10.0))
    assert (progress.actual, progress.projected) == (0.0, None)


def test_missing_days_are_projected_not_counted() -> None:
    daily = _daily(date(2024, 10, 1), date(2024, 10, 11), 10.0)
    del daily[date(2024, 10, 5)]
    progress = tracker_progress(MONTHLY, OCTOBER, date(2024, 10, 11), daily)
    assert progress.actual == pytest.approx(90)
    assert progress.projected == pytest.approx(310)


@pytest.mark.parametrize(
    ("per_day", "as_of", "expected"),
    [
        # "receive notifications when they exceed their requested amount" - strictly over
        pytest.param(10.0, date(2024, 10, 11), [], id="on-track"),
        pytest.param(20.0, date(2024, 10, 11), [AlertKind.PROJECTED], id="projected-to-exceed"),
        # exactly 500 so far is not "exceeded"; the projection still warns
        pytest.param(50.0, date(2024, 10, 11), [AlertKind.PROJECTED], id="actual-equals-amount"),
        pytest.param(51.0, date(2024, 10, 11), [AlertKind.EXCEEDED], id="exceeded-supersedes-warning"),
        pytest.param(16.2, date(2024, 11, 1), [AlertKind.EXCEEDED], id="period-complete-exceeded"),
        pytest.param(16.1, date(2024, 11, 1), [], id="period-complete-under"),
    ],
)
def test_alerts_due(per_day: float, as_of: date, expected: list[AlertKind]) -> None:
    daily = _daily(date(2024, 10, 1), as_of, per_day)
    evaluation = evaluate_tracker(MONTHLY, as_of - timedelta(days=1), as_of, daily)
    assert evaluation is not None
    assert [a.kind for a in evaluation.alerts] == expected


def test_each_alert_at_most_once_per_period_and_rearms_next_period() -> None:
    october = _daily(date(2024, 10, 1), date(2024, 11, 1), 20.0)
    sent: set[str] = set()
    delivered = []
    for day in sorted(october):
        evaluation = evaluate_tracker(MONTHLY, day, day + timedelta(days=1), october, sent)
        assert evaluation is not None
        for alert in evaluation.alerts:
            sent.add(alert.idempotency_key)
            delivered.append((day, alert.kind))
    # warned once on day 1 (projection 620 > 500), exceeded once on day 26 (520 > 500)
    assert delivered == [(date(2024, 10, 1), AlertKind.PROJECTED), (date(2024, 10, 26), AlertKind.EXCEEDED)]
    assert sent == {"tracker_projected:T1:2024-10", "tracker_exceeded:T1:2024-10"}

    november = {**october, **_daily(date(2024, 11, 1), date(2024, 11, 2), 600.0)}
    evaluation = evaluate_tracker(MONTHLY, date(2024, 11, 1), date(2024, 11, 2), november, sent)
    assert evaluation is not None
    assert [a.idempotency_key for a in evaluation.alerts] == ["tracker_exceeded:T1:2024-11"]


def test_redelivered_data_does_not_alert_twice() -> None:
    daily = _daily(date(2024, 10, 1), date(2024, 10, 11), 60.0)
    first = evaluate_tracker(MONTHLY, date(2024, 10, 10), date(2024, 10, 11), daily)
    assert first is not None and len(first.alerts) == 1
    again = evaluate_tracker(MONTHLY, date(2024, 10, 10), date(2024, 10, 11), daily, {first.alerts[0].idempotency_key})
    assert again is not None and again.alerts == ()


def test_late_revision_reevaluates_the_past_period_without_early_warning() -> None:
    daily = _daily(date(2024, 10, 1), date(2024, 11, 6), 15.0)  # October 465: under 500
    before = evaluate_tracker(MONTHLY, date(2024, 10, 31), date(2024, 11, 6), daily)
    assert before is not None and before.alerts == ()
    daily[date(2024, 10, 15)] = 60.0  # revised read arrives in November: October now 510
    after = evaluate_tracker(MONTHLY, date(2024, 10, 15), date(2024, 11, 6), daily)
    assert after is not None
    assert [a.idempotency_key for a in after.alerts] == [alert_key("T1", OCTOBER, AlertKind.EXCEEDED)]


def test_paused_tracker_reports_progress_but_does_not_alert() -> None:
    daily = _daily(date(2024, 10, 1), date(2024, 10, 11), 60.0)
    evaluation = evaluate_tracker(replace(MONTHLY, paused=True), date(2024, 10, 10), date(2024, 10, 11), daily)
    assert evaluation is not None
    assert evaluation.alerts == ()
    assert evaluation.progress.actual == pytest.approx(600)


def test_custom_tracker_outside_its_range_is_not_evaluated() -> None:
    assert evaluate_tracker(CUSTOM, date(2024, 10, 25), date(2024, 10, 26), {}) is None


def test_money_tracker_uses_tariff_costs() -> None:
    money = replace(MONTHLY, unit="money", amount=Decimal("100"))
    daily = {d: kwh * 0.25 + 0.5 for d, kwh in _daily(date(2024, 10, 1), date(2024, 10, 11), 40.0).items()}
    assert daily[date(2024, 10, 1)] == pytest.approx(10.5)
    evaluation = evaluate_tracker(money, date(2024, 10, 10), date(2024, 10, 11), daily)
    assert evaluation is not None
    assert [a.kind for a in evaluation.alerts] == [AlertKind.EXCEEDED]


@pytest.mark.parametrize(
    ("tracker", "tariff_known", "message"),
    [
        pytest.param(replace(MONTHLY, amount=Decimal("0")), False, "greater than zero", id="zero-amount"),
        pytest.param(replace(MONTHLY, amount=Decimal("-1")), False, "greater than zero", id="negative-amount"),
        pytest.param(replace(MONTHLY, amount=Decimal("NaN")), False, "greater than zero", id="nan-amount"),
        pytest.param(replace(MONTHLY, unit="money"), False, "known tariff", id="money-without-tariff"),
        pytest.param(replace(MONTHLY, period="custom"), False, "start and an end", id="custom-without-dates"),
        pytest.param(replace(CUSTOM, custom_end=date(2024, 10, 9)), False, "end on or after", id="custom-reversed"),
        pytest.param(replace(MONTHLY, custom_start=date(2024, 10, 1)), False, "Only custom", id="range-on-monthly"),
    ],
)
def test_invalid_trackers_are_refused(tracker: Tracker, tariff_known: bool, message: str) -> None:
    with pytest.raises(TrackerError, match=message):
        validate_tracker(tracker, tariff_known)


@pytest.mark.parametrize(
    ("tracker", "tariff_known"),
    [
        pytest.param(MONTHLY, False, id="kwh"),
        pytest.param(replace(MONTHLY, unit="money"), True, id="money-with-tariff"),
        pytest.param(replace(CUSTOM, custom_end=CUSTOM.custom_start), False, id="custom-single-day"),
        pytest.param(replace(MONTHLY, scope="portfolio", fuel="gas", period="week"), False, id="portfolio-gas-week"),
    ],
)
def test_valid_trackers_are_accepted(tracker: Tracker, tariff_known: bool) -> None:
    assert validate_tracker(tracker, tariff_known) is tracker
