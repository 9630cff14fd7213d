"""Alerts' HTTP routes: trackers, the inbox and notification preferences,
personal High Bill thresholds and the latest High Bill decision per account.

Every object is authorised here against the local read models: customers and
brokers see the sites of accounts that list them, operations see all.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field, HttpUrl
from sqlalchemy import Connection, Engine

from services.alerts.adapters import highbill as hb_store
from services.alerts.adapters import notifications as notes
from services.alerts.adapters import readmodels
from services.alerts.adapters import trackers as store
from services.alerts.adapters.channels import unsubscribe_link
from services.alerts.adapters.clock import Clock
from services.alerts.domain.projection import Reason
from services.alerts.domain.thresholds import (
    COST_MAX, COST_MIN, USAGE_MAX_PERCENT, USAGE_MIN_PERCENT, ThresholdError, effective_threshold, format_percent,
    module_visible, threshold_kind, validate_threshold,
)
from services.alerts.domain.trackers import Tracker, TrackerError, TrackerProgress, validate_tracker
from services.alerts.evaluation import evaluate_period, progress
from services.alerts.highbill import customer as load_customer
from services.alerts.highbill import threshold_settings
from shared.auth import Principal, current_principal, require_internal
from shared.config import Settings


@dataclass
class Context:
    engine: Engine
    clock: Clock
    settings: Settings
    notified: Callable[[], None]
    """Called after notifications were recorded (wakes the outbox relay)."""
    thresholds_changed: Callable[[], None]
    """Called after a threshold changed (re-runs the High Bill evaluation)."""


# -- trackers -------------------------------------------------------------------------------------

class TrackerIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    scope: Literal["site", "portfolio"] = Field(description="A site (scope_id = MPxN) or a portfolio group.")
    scope_id: str = Field(min_length=1, max_length=64)
    fuel: Literal["electricity", "gas"]
    period: Literal["day", "week", "month", "custom"]
    amount: Decimal = Field(description="kWh, or money in the account currency when unit is money.")
    unit: Literal["kWh", "money"] = "kWh"
    custom_start: date | None = None
    custom_end: date | None = Field(None, description="Inclusive last day of a custom range.")
    paused: bool = False


class TrackerPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=120)
    period: Literal["day", "week", "month", "custom"] | None = None
    amount: Decimal | None = None
    unit: Literal["kWh", "money"] | None = None
    custom_start: date | None = None
    custom_end: date | None = None
    paused: bool | None = None


class ProgressOut(BaseModel):
    period_start: date
    period_end: date = Field(description="Exclusive.")
    period_label: str
    amount: float
    actual: float
    projected: float | None
    percent: float
    projected_percent: float | None
    days_with_data: int


class TrackerOut(BaseModel):
    tracker_id: str
    name: str
    scope: str
    scope_id: str
    fuel: str
    period: str
    amount: Decimal
    unit: str
    currency: str
    custom_start: date | None
    custom_end: date | None
    paused: bool
    progress: ProgressOut


def _progress_out(p: TrackerProgress) -> ProgressOut:
    return ProgressOut(period_start=p.period.start, period_end=p.period.end, period_label=p.period.label,
                       amount=p.amount, actual=round(p.actual, 3), projected=None if p.projected is None else round(p.projected, 3),
                       percent=round(p.percent, 2),
                       projected_percent=None if p.projected_percent is None else round(p.projected_percent, 2),
                       days_with_data=p.days_with_data)


def _tracker_out(conn: Connection, row, today: date) -> TrackerOut:
    t = store.to_domain(row)
    return TrackerOut(tracker_id=t.tracker_id, name=t.name, scope=t.scope, scope_id=t.scope_id, fuel=t.fuel,
                      period=t.period, amount=t.amount, unit=t.unit, currency=t.currency, custom_start=t.custom_start,
                      custom_end=t.custom_end, paused=t.paused, progress=_progress_out(progress(conn, row, today)))


def _check_scope(conn: Connection, principal: Principal, scope: str, scope_id: str, fuel: str) -> list[str]:
    """The scope's supply points of ``fuel`` the caller may see, or a 404/422."""
    if scope == "site":
        if not readmodels.can_see_mpxn(conn, principal, scope_id):
            raise HTTPException(404, f"no supply point {scope_id} among your sites")
        candidates = [scope_id]
    else:
        if not readmodels.can_see_group(conn, principal, scope_id):
            raise HTTPException(404, f"no portfolio group {scope_id} among your portfolios")
        candidates = readmodels.group_mpxns(conn, scope_id)
    visible = readmodels.visible_mpxns(conn, principal.user_id, principal.email, principal.role, candidates)
    points = [sp for sp in readmodels.supply_points_by_mpxn(conn, list(visible)) if sp.fuel == fuel]
    if not points:
        what = f"site {scope_id} is not {fuel}" if scope == "site" else f"portfolio {scope_id} has no {fuel} sites you can see"
        raise HTTPException(422, f"{what}; choose the fuel the tracker should watch")
    return [sp.mpxn for sp in points]


def _validated(conn: Connection, tracker: Tracker, mpxns: list[str]) -> Tracker:
    priced = store.tariffs(conn, mpxns)
    try:
        validate_tracker(tracker, tariff_known=priced is not None)
    except TrackerError as exc:
        raise HTTPException(422, str(exc)) from exc
    if tracker.unit == "money" and priced:
        currencies = {a.currency for a in readmodels.accounts_by_ids(conn, list(set(priced[0].values())))}
        if len(currencies) > 1:
            raise HTTPException(422, "the sites are billed in different currencies; track them in kWh")
        return replace(tracker, currency=currencies.pop())
    return tracker


def _own_tracker(conn: Connection, principal: Principal, tracker_id: str):
    row = store.get(conn, tracker_id)
    if row is None or (row.owner_user_id != principal.user_id and principal.role != "operations"):
        raise HTTPException(404, f"no tracker {tracker_id} among your trackers")
    return row


def _evaluate_now(conn: Connection, row, ctx: Context) -> int:
    """Evaluate the period ending with the latest data (yesterday) and today's."""
    today = ctx.clock.today()
    recorded = []
    for day in sorted({today - timedelta(days=1), today}):
        recorded += evaluate_period(conn, row, day, today, ctx.clock.now())
    return len(recorded)


def trackers_router(ctx: Context) -> APIRouter:
    router = APIRouter(prefix="/api/v1/trackers", tags=["trackers"])

    @router.post("", status_code=201, summary="Create a consumption tracker on a site or portfolio")
    def create(body: TrackerIn, principal: Principal = Depends(current_principal)) -> TrackerOut:
        with ctx.engine.begin() as conn:
            mpxns = _check_scope(conn, principal, body.scope, body.scope_id, body.fuel)
            tracker = _validated(conn, Tracker(tracker_id=f"TRK-{uuid.uuid4().hex[:12]}", **body.model_dump()), mpxns)
            store.create(conn, tracker, principal.user_id, principal.email, principal.role, ctx.clock.now())
            row = store.get(conn, tracker.tracker_id)
            recorded = _evaluate_now(conn, row, ctx)
            out = _tracker_out(conn, row, ctx.clock.today())
        if recorded:
            ctx.notified()
        return out

    @router.get("", summary="The caller's trackers with progress to date")
    def list_trackers(principal: Principal = Depends(current_principal)) -> list[TrackerOut]:
        with ctx.engine.connect() as conn:
            return [_tracker_out(conn, row, ctx.clock.today()) for row in store.owned_by(conn, principal.user_id)]

    @router.get("/{tracker_id}", summary="One tracker with progress to date")
    def get_tracker(tracker_id: str, principal: Principal = Depends(current_principal)) -> TrackerOut:
        with ctx.engine.connect() as conn:
            return _tracker_out(conn, _own_tracker(conn, principal, tracker_id), ctx.clock.today())

    @router.patch("/{tracker_id}", summary="Edit, pause (paused=true) or resume (paused=false) a tracker")
    def edit(tracker_id: str, body: TrackerPatch, principal: Principal = Depends(current_principal)) -> TrackerOut:
        changes = body.model_dump(exclude_unset=True)
        with ctx.engine.begin() as conn:
            row = _own_tracker(conn, principal, tracker_id)
            current = store.to_domain(row)
            if changes.get("period", current.period) != "custom":
                changes.setdefault("custom_start", None)
                changes.setdefault("custom_end", None)
            tracker = replace(current, **changes)
            tracker = _validated(conn, tracker, store.scope_mpxns(conn, row))
            store.save(conn, tracker, ctx.clock.now())
            row = store.get(conn, tracker_id)
            recorded = _evaluate_now(conn, row, ctx)
            out = _tracker_out(conn, row, ctx.clock.today())
        if recorded:
            ctx.notified()
        return out

    @router.delete("/{tracker_id}", status_code=204, summary="Delete a tracker")
    def remove(tracker_id: str, principal: Principal = Depends(current_principal)) -> Response:
        with ctx.engine.begin() as conn:
            _own_tracker(conn, principal, tracker_id)
            store.remove(conn, tracker_id)
        return Response(status_code=204)

    return router


# -- notifications ----------------------------------------------------------------------------------

class NotificationOut(BaseModel):
    notification_id: str
    kind: str
    subject: str
    body: str
    link: str | None
    period: str | None
    created_at: datetime
    read: bool


class PreferencesIn(BaseModel):
    channels: list[Literal["inbox", "email", "webhook"]] = Field(description="Channels to receive alerts on.")
    webhook_url: HttpUrl | None = Field(None, description="Where signed webhooks go (required for the webhook channel).")
    unsubscribed: bool = Field(False, description="True stops email and webhooks; the in-app inbox stays.")


class PreferencesOut(BaseModel):
    channels: list[str]
    active_channels: list[str]
    webhook_url: str | None
    webhook_secret: str = Field(description="HMAC-SHA256 key of the X-Meterstream-Signature header.")
    unsubscribed: bool
    unsubscribe_link: str


def _prefs_out(p: notes.Preferences) -> PreferencesOut:
    return PreferencesOut(channels=list(p.channels), active_channels=p.active_channels(), webhook_url=p.webhook_url,
                          webhook_secret=p.webhook_secret, unsubscribed=p.unsubscribed,
                          unsubscribe_link=unsubscribe_link(p))


def notifications_router(ctx: Context) -> APIRouter:
    router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

    @router.get("/preferences", summary="The caller's notification channels and subscription")
    def get_preferences(principal: Principal = Depends(current_principal)) -> PreferencesOut:
        with ctx.engine.begin() as conn:
            return _prefs_out(notes.preferences(conn, principal.user_id, ctx.clock.now()))

    @router.put("/preferences", summary="Choose channels, set a webhook URL, unsubscribe or resubscribe")
    def put_preferences(body: PreferencesIn, principal: Principal = Depends(current_principal)) -> PreferencesOut:
        channels = list(dict.fromkeys(["inbox", *body.channels]))
        if "webhook" in channels and body.webhook_url is None:
            raise HTTPException(422, "the webhook channel needs a webhook_url")
        with ctx.engine.begin() as conn:
            prefs = notes.set_preferences(conn, principal.user_id, channels,
                                          str(body.webhook_url) if body.webhook_url else None, body.unsubscribed,
                                          ctx.clock.now())
        return _prefs_out(prefs)

    @router.api_route("/unsubscribe", methods=["GET", "POST"], summary="Unsubscribe with the token of an email link",
                      dependencies=[Depends(require_internal)])
    def unsubscribe(token: str = Query(min_length=10)) -> dict[str, str]:
        with ctx.engine.begin() as conn:
            if not notes.unsubscribe(conn, token, ctx.clock.now()):
                raise HTTPException(404, "unknown or expired unsubscribe link")
        return {"status": "unsubscribed", "detail": "You will no longer receive alert emails or webhooks; "
                                                    "alerts stay in your in-app inbox."}

    @router.get("", summary="The caller's in-app inbox, newest first")
    def inbox(unread_only: bool = False, limit: int = Query(50, ge=1, le=500),
              principal: Principal = Depends(current_principal)) -> list[NotificationOut]:
        with ctx.engine.connect() as conn:
            rows = notes.inbox(conn, principal.user_id, unread_only, limit)
        return [NotificationOut(notification_id=r.notification_id, kind=r.kind, subject=r.subject, body=r.body,
                                link=r.link, period=r.period, created_at=r.created_at, read=r.read_at is not None)
                for r in rows]

    @router.post("/{notification_id}/read", status_code=204, summary="Mark a notification read")
    def mark_read(notification_id: str, principal: Principal = Depends(current_principal)) -> Response:
        with ctx.engine.begin() as conn:
            if not notes.mark_read(conn, principal.user_id, notification_id, ctx.clock.now()):
                raise HTTPException(404, f"no notification {notification_id} in your inbox")
        return Response(status_code=204)

    return router


# -- thresholds and High Bill decisions ----------------------------------------------------------------

class ThresholdIn(BaseModel):
    kind: Literal["cost", "usage"]
    value: Any = Field(description="Money (cost: 1 to 100,000,000) or percent above last year (usage: 0 to 1000).")
    customer_id: str | None = Field(None, description="Needed only when you manage several customers.")


class ThresholdOut(BaseModel):
    customer_id: str
    allowed_kind: Literal["cost", "usage"]
    allowed_range: dict[str, Decimal]
    personal: dict[str, Any] | None
    effective: dict[str, Any] | None
    explanation: str


def _customer_id(conn: Connection, principal: Principal, requested: str | None) -> str:
    accounts = readmodels.accounts_of_user(conn, principal)
    customers = sorted({a.customer_id for a in accounts})
    if requested is not None:
        if requested not in customers:
            raise HTTPException(404, f"no customer {requested} among your accounts")
        return requested
    if len(customers) == 1:
        return customers[0]
    if not customers:
        raise HTTPException(404, "you have no accounts, so there is no threshold to show")
    raise HTTPException(422, f"you manage several customers; pass customer_id (one of {', '.join(customers)})")


def thresholds_router(ctx: Context) -> APIRouter:
    router = APIRouter(tags=["high bill alerts"])
    settings = threshold_settings(ctx.settings)

    def visible() -> None:
        if not module_visible(settings):
            raise HTTPException(404, "Personal thresholds are not enabled by your supplier; High Bill Alerts use "
                                     f"the standard threshold of {format_percent(settings.default_percent)} above "
                                     "the same bill period last year.")

    def out(conn: Connection, customer_id: str) -> ThresholdOut:
        customer = load_customer(conn, customer_id)
        kind = threshold_kind(customer.accounts)
        effective = effective_threshold(customer, settings)
        low, high = (COST_MIN, COST_MAX) if kind == "cost" else (USAGE_MIN_PERCENT, USAGE_MAX_PERCENT)
        return ThresholdOut(
            customer_id=customer_id, allowed_kind=kind, allowed_range={"min": low, "max": high},
            personal={"kind": customer.personal.kind, "value": customer.personal.value} if customer.personal else None,
            effective={"source": effective.source, "kind": effective.kind, "value": effective.value,
                       "currency": effective.currency, "change_link": effective.change_link} if effective else None,
            explanation=effective.explanation if effective else "No High Bill Alerts apply.",
        )

    @router.get("/api/v1/thresholds", summary="The customer's High Bill Alert threshold and what it means")
    def get_threshold(customer_id: str | None = None, principal: Principal = Depends(current_principal)) -> ThresholdOut:
        visible()
        with ctx.engine.connect() as conn:
            return out(conn, _customer_id(conn, principal, customer_id))

    @router.put("/api/v1/thresholds", summary="Set the customer's personal threshold (kind decided by their accounts)")
    def put_threshold(body: ThresholdIn, principal: Principal = Depends(current_principal)) -> ThresholdOut:
        visible()
        with ctx.engine.begin() as conn:
            customer_id = _customer_id(conn, principal, body.customer_id)
            customer = load_customer(conn, customer_id)
            try:
                threshold = validate_threshold(customer.accounts, body.kind, body.value, settings)
            except ThresholdError as exc:
                raise HTTPException(422, {"code": exc.code.value, "message": exc.message}) from exc
            hb_store.set_personal_threshold(conn, customer_id, threshold, principal.user_id, ctx.clock.now())
            result = out(conn, customer_id)
        ctx.thresholds_changed()
        return result

    @router.get("/api/v1/high-bill/accounts/{account_id}", summary="The latest High Bill decision and its reason")
    def high_bill_decision(account_id: str, principal: Principal = Depends(current_principal)) -> dict[str, Any]:
        with ctx.engine.connect() as conn:
            if account_id not in {a.account_id for a in readmodels.accounts_of_user(conn, principal)}:
                raise HTTPException(404, f"no account {account_id} among your accounts")
            row = hb_store.latest_decision(conn, account_id)
        if row is None:
            raise HTTPException(404, f"no High Bill evaluation for {account_id} yet")
        return {**row._asdict(), "explanation": REASONS[Reason(row.reason)]}

    return router


REASONS: dict[Reason, str] = {
    Reason.ALERT: "The projected bill is above the threshold: a High Bill Alert was sent.",
    Reason.BELOW_THRESHOLD: "The projected bill is within the threshold.",
    Reason.NO_THRESHOLD: "No threshold applies (water alerts need a personal cost threshold).",
    Reason.INSUFFICIENT_READS: "Fewer than 75% of the possible reads since the bill period started have arrived.",
    Reason.INSUFFICIENT_RATE_MODELLED: "Fewer than 95% of the reads could be priced, so the bill cannot be projected in money.",
    Reason.INSUFFICIENT_HISTORY: "Less than a year of history, so there is no same period last year to compare with.",
    Reason.NO_BASELINE: "Too few reads in the same bill period last year to compare with.",
}


def routers(ctx: Context) -> list[APIRouter]:
    return [trackers_router(ctx), notifications_router(ctx), thresholds_router(ctx)]
