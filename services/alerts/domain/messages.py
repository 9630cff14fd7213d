"""Notification text for every channel: email, SMS and the in-app inbox.

Seed 003 requires a High Bill Alert to remind the customer of their
threshold and link to where they change it; tracker messages name the
tracker, the period, the amount and the actual or projected consumption.
SMS is limited to one 160-character message, so the text is shortened at a
word boundary while the link, the part the customer acts on, is kept whole.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from shared.contracts.events import Notification
from services.alerts.domain.projection import Decision
from services.alerts.domain.thresholds import EffectiveThreshold, format_money, format_percent
from services.alerts.domain.trackers import AlertKind, Tracker, TrackerAlert, TrackerPeriod

SMS_LIMIT = 160
_ELLIPSIS = "..."  # GSM-7 safe, unlike the single-character ellipsis


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    email_body: str
    sms: str
    inbox: str
    link: str | None


def _shorten(text: str, width: int) -> str:
    """``text`` in ``width`` characters, cut at a word boundary and marked ``...``."""
    if len(text) <= width:
        return text
    if width <= len(_ELLIPSIS):
        return ""
    cut = text[: width - len(_ELLIPSIS) + 1]
    cut = cut[: cut.rindex(" ")] if " " in cut else cut[:-1]
    return cut.rstrip(" ,.;:") + _ELLIPSIS


def fit_sms(text: str, link: str | None = None, limit: int = SMS_LIMIT) -> str:
    """``text`` (then `` link``) in at most ``limit`` characters.

    The text is cut at the last word boundary that fits; the link is kept
    whole (a broken link is useless) unless it alone cannot fit.
    """
    suffix = f" {link}" if link else ""
    room = limit - len(suffix)
    if room <= len(_ELLIPSIS):
        return (link or "")[:limit]
    return _shorten(text, room) + suffix


def _sms(prefix: str, name: str, suffix: str, link: str | None) -> str:
    """``prefix + name + suffix`` (then the link), shortening the name first.

    The figures, threshold and link matter more than a long site or tracker
    name, so the name gives way (down to nothing) before :func:`fit_sms`
    cuts anything else.
    """
    room = SMS_LIMIT - len(prefix) - len(suffix) - (len(link) + 1 if link else 0)
    name = _shorten(name, room)
    text = prefix + name + suffix if name else prefix.rstrip() + suffix
    return fit_sms(text, link)


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _kwh(value: float) -> str:
    return f"{value:,.0f} kWh"


def _money(value: float, currency: str) -> str:
    return format_money(Decimal(str(round(value, 2))), currency)


def _threshold_reminder(threshold: EffectiveThreshold) -> tuple[str, str]:
    """(sentence for email and inbox, compact form for SMS)."""
    pct = format_percent(threshold.value)
    if threshold.source == "utility_default":
        return (
            f"This alert uses our standard threshold: projected use or cost more than "
            f"{pct} above the same period last year.",
            f"Standard threshold: {pct} over last yr.",
        )
    if threshold.kind == "cost":
        money = format_money(threshold.value, threshold.currency)
        return (
            f"You asked us to alert you when your projected bill is over {money}.",
            f"Your threshold: {money}.",
        )
    return (
        f"You asked us to alert you when your projected use is more than {pct} above the same period last year.",
        f"Your threshold: {pct} over last yr.",
    )


def render_high_bill(decision: Decision, account_name: str) -> RenderedMessage:
    """The High Bill Alert for a decision with ``alert`` set."""
    threshold = decision.threshold
    if not decision.alert or threshold is None or decision.projected_usage is None:
        raise ValueError("only a positive High Bill Alert decision can be rendered")
    period = decision.period
    last_day = period.end - timedelta(days=1)
    span = f"{_day(period.start)} to {_day(last_day)}"
    currency = threshold.currency
    if decision.projected_cost is not None:
        projected = f"{_money(decision.projected_cost, currency)} ({_kwh(decision.projected_usage)})"
        short = _money(decision.projected_cost, currency)
    else:
        projected = _kwh(decision.projected_usage)
        short = projected
    baseline = decision.baseline
    comparison = sms_comparison = ""
    if baseline is not None:
        last_year = (
            _money(baseline.cost, currency)
            if decision.projected_cost is not None and baseline.cost is not None
            else _kwh(baseline.usage)
        )
        comparison = f" Last year the same period was {last_year}."
        sms_comparison = f" (last yr {last_year})"
    link = threshold.change_link
    reminder, sms_reminder = _threshold_reminder(threshold)
    parts = [f"Your {account_name} bill for {span} is on track to be {projected}.{comparison}", reminder]
    sms_suffix = f" on track for {short}{sms_comparison}. {sms_reminder}"
    if link:
        parts.append(f"Change your threshold: {link}")
        sms_suffix += " Change it:"
    return RenderedMessage(
        subject=f"High bill alert: {account_name} is on track for {short}",
        email_body="\n\n".join(parts),
        sms=_sms("High bill alert: ", account_name, sms_suffix, link),
        inbox=" ".join(parts),
        link=link,
    )


def describe_period(kind: str, period: TrackerPeriod) -> str:
    """Human wording of a tracker period: ``October 2024``, ``week of 30 Sep 2024``."""
    if kind == "day":
        return _day(period.start)
    if kind == "week":
        return f"the week of {_day(period.start)}"
    if kind == "month":
        return f"{period.start:%B %Y}"
    return f"{_day(period.start)} to {_day(period.end - timedelta(days=1))}"


def render_tracker(tracker: Tracker, alert: TrackerAlert, link: str | None = None) -> RenderedMessage:
    """An ``exceeded`` or ``projected`` tracker notification."""
    progress = alert.progress

    def amount(value: float) -> str:
        return _money(value, tracker.currency) if tracker.unit == "money" else _kwh(value)

    when = describe_period(tracker.period, progress.period)
    limit = amount(progress.amount)
    if alert.kind is AlertKind.EXCEEDED:
        subject = f"Tracker '{tracker.name}' exceeded for {when}"
        detail = f"consumption so far is {amount(progress.actual)}, above your amount of {limit}."
        sms_suffix = f": {amount(progress.actual)} used, over your {limit} for {when}."
    else:
        projected = amount(progress.projected or 0.0)
        subject = f"Tracker '{tracker.name}' is on track to exceed {limit} for {when}"
        detail = (
            f"consumption so far is {amount(progress.actual)} and is projected to reach "
            f"{projected} by the end of the period, above your amount of {limit}."
        )
        sms_suffix = f": projected {projected} vs your {limit} for {when}."
    body = f"Your {tracker.fuel} tracker '{tracker.name}' for {when}: {detail}"
    view = f"View or change the tracker: {link}" if link else ""
    return RenderedMessage(
        subject=subject,
        email_body="\n\n".join(part for part in (body, view) if part),
        sms=_sms("Tracker ", tracker.name, sms_suffix, link),
        inbox=body,
        link=link,
    )


def to_notification(
    message: RenderedMessage,
    *,
    notification_id: str,
    kind: str,
    recipient: str,
    channels: list[str],
    rule_id: str,
    period: str,
    created_at: datetime,
    email: str | None = None,
) -> Notification:
    """The bus event; ``notification_id`` is the domain's idempotency key."""
    return Notification(
        notification_id=notification_id,
        kind=kind,
        recipient=recipient,
        channels=channels,
        subject=message.subject,
        body=message.email_body,
        link=message.link,
        sms=message.sms,
        email=email,
        rule_id=rule_id,
        period=period,
        created_at=created_at,
    )
