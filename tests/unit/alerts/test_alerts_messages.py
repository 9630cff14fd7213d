"""Notification text: threshold reminder and link (seed 003), tracker wording, SMS length."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.alerts.domain.messages import SMS_LIMIT, describe_period, fit_sms, render_high_bill, render_tracker, to_notification
from services.alerts.domain.projection import Baseline, BillPeriod, Decision, Reason
from services.alerts.domain.thresholds import EffectiveThreshold
from services.alerts.domain.trackers import AlertKind, Tracker, TrackerAlert, TrackerPeriod, TrackerProgress

LINK = "https://portal.example.co.uk/preferences/high-bill-alerts"
PERIOD = BillPeriod(date(2024, 10, 15), date(2024, 11, 15))


def _threshold(source: str, kind: str, value: str, link: str | None = LINK) -> EffectiveThreshold:
    return EffectiveThreshold(source, kind, Decimal(value), "GBP", "", link)  # type: ignore[arg-type]


def _decision(threshold: EffectiveThreshold, cost: float | None = 447.0, baseline: bool = True, alert: bool = True) -> Decision:
    return Decision(
        alert=alert,
        reason=Reason.ALERT if alert else Reason.BELOW_THRESHOLD,
        period=PERIOD,
        projected_usage=1490.0,
        projected_cost=cost,
        baseline=Baseline(BillPeriod(date(2023, 10, 15), date(2023, 11, 15)), 745.0, 223.5) if baseline else None,
        threshold=threshold,
        idempotency_key="high_bill:A1:2024-10-15/2024-11-15",
        read_coverage=1.0,
        rate_modelled_coverage=1.0,
    )


@pytest.mark.parametrize(
    ("threshold", "cost", "baseline", "fragments", "sms_fragments"),
    [
        # "when they receive an alert the module reminds them they set a threshold, and provides a link"
        pytest.param(
            _threshold("personal", "cost", "100"), 447.0, False,
            ["on track to be £447.00 (1,490 kWh)", "projected bill is over £100.00", f"Change your threshold: {LINK}"],
            ["£447.00", "Your threshold: £100.00.", LINK], id="personal-cost",
        ),
        pytest.param(
            _threshold("personal", "usage", "25"), None, True,
            ["on track to be 1,490 kWh", "Last year the same period was 745 kWh", "more than 25% above", LINK],
            ["1,490 kWh (last yr 745 kWh)", "Your threshold: 25% over last yr.", LINK], id="personal-usage",
        ),
        pytest.param(
            _threshold("utility_default", "combined", "30"), 447.0, True,
            ["Last year the same period was £223.50", "standard threshold", "30% above", LINK],
            ["(last yr £223.50)", "Standard threshold: 30% over last yr.", LINK], id="utility-default",
        ),
    ],
)
def test_high_bill_alert_reminds_threshold_and_links(
    threshold: EffectiveThreshold, cost: float | None, baseline: bool, fragments: list[str], sms_fragments: list[str]
) -> None:
    message = render_high_bill(_decision(threshold, cost, baseline), "Office electricity")
    assert "15 Oct 2024 to 14 Nov 2024" in message.email_body
    for fragment in fragments:
        assert fragment in message.email_body
        assert fragment in message.inbox
    for fragment in sms_fragments:
        assert fragment in message.sms
    assert len(message.sms) <= SMS_LIMIT
    assert message.link == LINK
    assert message.subject.startswith("High bill alert: Office electricity")


def test_high_bill_alert_without_module_has_no_link() -> None:
    message = render_high_bill(_decision(_threshold("utility_default", "combined", "30", link=None)), "Office")
    assert message.link is None
    assert "Change" not in message.email_body and "Change" not in message.sms


def test_long_account_name_keeps_sms_within_limit_and_link_whole() -> None:
    name = "The Very Long Named Industrial Estate Unit Forty Two Main Electricity Supply"
    short_link = "https://ex.co/hba"
    message = render_high_bill(_decision(_threshold("personal", "usage", "1000", short_link)), name)
    assert len(message.sms) <= SMS_LIMIT
    assert message.sms.endswith(f"Change it: {short_link}")
    assert message.sms.startswith("High bill alert: The Very Long Named Industrial... on track for £447.00")
    assert "Your threshold: 1000% over last yr." in message.sms


def test_name_gives_way_entirely_before_the_threshold_is_cut() -> None:
    message = render_high_bill(_decision(_threshold("personal", "cost", "100000000")), "Office electricity")
    assert message.sms == (
        "High bill alert: on track for £447.00 (last yr £223.50). Your threshold: £100,000,000.00. Change it: " + LINK
    )


def test_only_positive_decisions_render() -> None:
    with pytest.raises(ValueError):
        render_high_bill(_decision(_threshold("personal", "cost", "100"), alert=False), "Office")


@pytest.mark.parametrize(
    ("text", "link", "expected"),
    [
        pytest.param("Short text.", None, "Short text.", id="fits"),
        pytest.param("Short text.", "https://x.io/a", "Short text. https://x.io/a", id="fits-with-link"),
        pytest.param("a" * 160, None, "a" * 160, id="exactly-160"),
        pytest.param("word " * 40, None, ("word " * 31).rstrip() + "...", id="cut-at-word"),
        pytest.param("word " * 40, "L" * 20, ("word " * 27).rstrip() + "... " + "L" * 20, id="cut-keeps-link"),
    ],
)
def test_fit_sms(text: str, link: str | None, expected: str) -> None:
    result = fit_sms(text, link)
    assert result == expected
    assert len(result) <= SMS_LIMIT


@given(st.text(max_size=400), st.one_of(st.none(), st.text(alphabet="abc/:.", min_size=1, max_size=150)))
def test_fit_sms_never_exceeds_limit(text: str, link: str | None) -> None:
    result = fit_sms(text, link)
    assert len(result) <= SMS_LIMIT
    if link:
        assert result.endswith(link) or result == link[:SMS_LIMIT]
    else:
        assert result == text or result.endswith("...")


TRACKER = Tracker("T1", "Office power", "site", "S1", "electricity", "month", Decimal("500"))
OCTOBER = TrackerPeriod(date(2024, 10, 1), date(2024, 11, 1), "2024-10")


def _alert(kind: AlertKind, actual: float, projected: float | None, tracker: Tracker = TRACKER) -> TrackerAlert:
    progress = TrackerProgress("T1", OCTOBER, float(tracker.amount), actual, projected, 0.0, None, 10)
    return TrackerAlert(kind, f"{kind.value}:T1:2024-10", progress)


@pytest.mark.parametrize(
    ("kind", "actual", "projected", "fragments"),
    [
        pytest.param(
            AlertKind.EXCEEDED, 512.4, 700.0,
            ["Office power", "October 2024", "512 kWh", "500 kWh", "exceeded"], id="exceeded",
        ),
        pytest.param(
            AlertKind.PROJECTED, 300.0, 930.0,
            ["Office power", "October 2024", "300 kWh", "930 kWh", "500 kWh"], id="projected",
        ),
    ],
)
def test_tracker_messages_say_tracker_period_amount_and_figures(
    kind: AlertKind, actual: float, projected: float, fragments: list[str]
) -> None:
    message = render_tracker(TRACKER, _alert(kind, actual, projected), "https://portal.example/t/T1")
    text = f"{message.subject} {message.email_body}"
    for fragment in fragments:
        assert fragment in text
    assert "Office power" in message.sms and "500 kWh" in message.sms
    assert message.sms.endswith("https://portal.example/t/T1")
    assert len(message.sms) <= SMS_LIMIT


def test_money_tracker_message_uses_currency() -> None:
    tracker = replace(TRACKER, unit="money", amount=Decimal("100"))
    message = render_tracker(tracker, _alert(AlertKind.EXCEEDED, 105.0, None, tracker))
    assert "£105.00" in message.email_body and "£100.00" in message.email_body
    assert message.link is None


def test_long_tracker_name_sms_is_truncated() -> None:
    tracker = replace(TRACKER, name="Head office and all regional depots combined electricity usage tracker " * 2)
    message = render_tracker(tracker, _alert(AlertKind.PROJECTED, 300.0, 930.0, tracker), "https://portal.example/t/T1")
    assert len(message.sms) <= SMS_LIMIT
    assert message.sms.startswith("Tracker Head office")
    assert "...: projected 930 kWh vs your 500 kWh for October 2024." in message.sms
    assert message.sms.endswith(" https://portal.example/t/T1")


@pytest.mark.parametrize(
    ("kind", "period", "text"),
    [
        pytest.param("day", TrackerPeriod(date(2024, 10, 27), date(2024, 10, 28), ""), "27 Oct 2024", id="day"),
        pytest.param("week", TrackerPeriod(date(2024, 9, 30), date(2024, 10, 7), ""), "the week of 30 Sep 2024", id="week"),
        pytest.param("month", OCTOBER, "October 2024", id="month"),
        pytest.param("custom", TrackerPeriod(date(2024, 10, 10), date(2024, 10, 21), ""), "10 Oct 2024 to 20 Oct 2024", id="custom"),
    ],
)
def test_describe_period(kind: str, period: TrackerPeriod, text: str) -> None:
    assert describe_period(kind, period) == text


def test_to_notification_carries_the_idempotency_key() -> None:
    alert = _alert(AlertKind.EXCEEDED, 512.0, None)
    message = render_tracker(TRACKER, alert, "https://portal.example/t/T1")
    created = datetime(2024, 10, 11, 7, 0, tzinfo=timezone.utc)
    event = to_notification(
        message, notification_id=alert.idempotency_key, kind=alert.kind.value, recipient="user-1",
        channels=["email", "inbox"], rule_id="T1", period="2024-10", created_at=created,
    )
    assert event.notification_id == "tracker_exceeded:T1:2024-10"
    assert (event.kind, event.subject, event.body, event.link) == (
        "tracker_exceeded", message.subject, message.email_body, "https://portal.example/t/T1"
    )
