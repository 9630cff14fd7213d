"""High Bill Alerts: a daily, business-clock-driven evaluation of every active
account's projected bill against its customer's threshold.

Each decision is recorded with its reason (including data-sufficiency
reasons, and whether the days ahead were weather-adjusted); an alert becomes one notification per customer user of the account,
at most once per (account, bill period, user) thanks to the idempotency key.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, Engine, select

from services.alerts.adapters import highbill as store
from services.alerts.adapters import notifications as notes
from services.alerts.adapters import readmodels
from services.alerts.adapters import tables as t
from services.alerts.adapters.clock import Clock, sleep_unless
from services.alerts.adapters.trackers import meter_days
from services.alerts.adapters.weather import DailyTemperatures, fetch
from services.alerts.domain.messages import render_high_bill, to_notification
from services.alerts.domain.projection import (
    HIGH_BILL_RULE, Decision, ProjectionConfig, bill_period, evaluate_high_bill, same_period_last_year,
)
from services.alerts.domain.thresholds import Account, Customer, ThresholdSettings, effective_threshold
from services.alerts.domain.usage import Tariff, account_days
from shared.config import Settings
from shared.contracts.events import Notification

log = logging.getLogger(__name__)

LONGEST_PERIOD_DAYS = 31


def threshold_settings(settings: Settings) -> ThresholdSettings:
    return ThresholdSettings(personal_thresholds_enabled=settings.personal_thresholds_enabled,
                             default_percent=Decimal(str(settings.high_bill_default_percent)))


def _fuel_of(conn: Connection, account_id: str) -> str:
    fuels = sorted({sp.fuel for sp in readmodels.supply_points_of_accounts(conn, [account_id])})
    return fuels[0] if fuels else "electricity"


def domain_account(conn: Connection, row) -> Account:
    return Account(account_id=row.account_id, fuel=_fuel_of(conn, row.account_id), active=row.active,
                   has_modelled_rates=row.has_modelled_rates, budget_billing=row.budget_billing,
                   currency=row.currency)


def customer(conn: Connection, customer_id: str) -> Customer:
    accounts = tuple(domain_account(conn, r) for r in readmodels.accounts_of_customer(conn, customer_id))
    return Customer(customer_id, accounts, store.personal_threshold(conn, customer_id))


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    notifications: list[Notification]


def temperatures_window(as_of: date, config: ProjectionConfig = ProjectionConfig()) -> tuple[date, date]:
    """Days any account's projection as of ``as_of`` may need: the recent window and the longest rest of a period."""
    return as_of - timedelta(days=config.recent_days), as_of + timedelta(days=LONGEST_PERIOD_DAYS)


def evaluate_account(conn: Connection, row, as_of: date, settings: ThresholdSettings, now: datetime,
                     temperatures: Mapping[date, float] | None = None) -> Outcome | None:
    """Decide, record the decision and record the alert's notifications.

    ``temperatures`` are daily means for the recent and remaining days; without
    them the projection is not weather-adjusted (the decision records why).
    """
    points = readmodels.supply_points_of_accounts(conn, [row.account_id])
    if not row.active or not points:
        return None
    mpxns = [p.mpxn for p in points]
    period = bill_period(row.bill_cycle_day, as_of)
    first = min(same_period_last_year(row.bill_cycle_day, period).start, period.start)
    tariff = (Tariff(row.unit_rate_per_kwh, row.standing_charge_per_day or 0.0)
              if row.has_modelled_rates and row.unit_rate_per_kwh is not None else None)
    days = account_days(meter_days(conn, mpxns, first, as_of), len(mpxns), tariff)
    account = domain_account(conn, row)
    threshold = effective_threshold(customer(conn, row.customer_id), settings, account.fuel)
    decision = evaluate_high_bill(account, row.bill_cycle_day, as_of, days, store.history_start(conn, mpxns), threshold,
                                  temperatures)
    store.record_decision(conn, row.account_id, decision, as_of, now)
    recorded = []
    if decision.alert:
        message = render_high_bill(decision, row.account_name)
        for user in readmodels.account_recipients(conn, row.account_id):
            notification = to_notification(
                message, notification_id=f"{decision.idempotency_key}:{user.user_id}", kind=HIGH_BILL_RULE,
                recipient=user.user_id, channels=notes.channels_for(conn, user.user_id, now),
                rule_id=f"{HIGH_BILL_RULE}:{row.account_id}", period=decision.period.label, created_at=now,
                email=user.email)
            if notes.record(conn, notification):
                recorded.append(notification)
    return Outcome(decision, recorded)


def run_day(engine: Engine, as_of: date, settings: ThresholdSettings, now: datetime,
            weather: DailyTemperatures | None = None) -> dict[str, int]:
    """Evaluate every active account as of a day; one transaction per account.

    Temperatures are fetched once for the run: every account uses the same
    (UK composite) location, so only the window differs, and it is covered.
    """
    temperatures = fetch(weather, *temperatures_window(as_of), now)
    with engine.connect() as conn:
        ids = list(conn.execute(select(t.accounts.c.account_id).where(t.accounts.c.active.is_(True))).scalars())
    summary = {"accounts": 0, "alerts": 0, "notifications": 0}
    for account_id in ids:
        with engine.begin() as conn:
            row = readmodels.account(conn, account_id)
            outcome = evaluate_account(conn, row, as_of, settings, now, temperatures) if row else None
        if outcome:
            summary["accounts"] += 1
            summary["alerts"] += outcome.decision.alert
            summary["notifications"] += len(outcome.notifications)
    return summary


class HighBillWorker:
    """Runs :func:`run_day` once per business day (and again when asked)."""

    def __init__(self, engine: Engine, clock: Clock, settings: ThresholdSettings, on_recorded=None,
                 poll_seconds: float = 60.0, weather: DailyTemperatures | None = None):
        self._engine, self._clock, self._settings, self._weather = engine, clock, settings, weather
        self._on_recorded = on_recorded or (lambda: None)
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self.last_run: date | None = None

    def wake(self) -> None:
        """Re-evaluate now (e.g. after new account data or a threshold change)."""
        self._wake.set()

    async def run_once(self) -> dict[str, int]:
        day = self._clock.today()
        summary = await asyncio.to_thread(run_day, self._engine, day, self._settings, self._clock.now(),
                                          self._weather)
        self.last_run = day
        if summary["notifications"]:
            self._on_recorded()
        log.info("high bill evaluation as of %s: %s", day, summary)
        return summary

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self._wake.is_set() or self.last_run != self._clock.today():
                self._wake.clear()
                await self.run_once()
            await sleep_unless(stop, self._wake, self._poll)
