"""Alerts benchmark: tracker evaluation throughput next to the raw parse rate
of the same meter-day events, and read-to-notification latency (p50/p95) of
the evaluation path (store, evaluate, record idempotency key + outbox, commit).

Runs in process on a temporary SQLite database, so it measures the service's
own work; bus transport adds the faust hop on top (see the platform note).
"""
from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from services.alerts import evaluation
from services.alerts.adapters import readmodels
from services.alerts.adapters import tables as t
from services.alerts.adapters import trackers as store
from services.alerts.domain.trackers import Tracker
from shared import db, readmodel
from shared.contracts.events import AccountChanged, AccountUser, MeterDayRead, SupplyPointChanged
from shared.hh import periods_in_day

TODAY = date(2024, 11, 1)
USER = AccountUser(user_id="USR-BENCH", email="bench@example.com")
DAILY_TARGET = 100_000 / 600
"""Meter-days/s to evaluate a D+1 delivery for 100,000 meters within ten minutes."""


def _reads(mpxns: list[str], days: int, kwh: float = 0.2) -> list[MeterDayRead]:
    now = datetime.now(timezone.utc)
    out = []
    for i in range(days):
        day = TODAY - timedelta(days=days - i)
        n = periods_in_day(day)
        out += [MeterDayRead(event_id=f"{m}:{day}:1", mpxn=m, fuel="electricity", settlement_date=day, version=1,
                             content_hash="h", kwh=[kwh] * n, quality="A" * n, batch_id="bench", received_at=now)
                for m in mpxns]
    return out


def _seed(engine, mpxns: list[str], amount: Decimal) -> None:
    with engine.begin() as conn:
        readmodel.apply(conn, t.supply_points, [
            SupplyPointChanged(mpxn=m, revision=1, fuel="electricity", site_id=m, site_name=m, account_id="A1",
                               customer_id="C1", meter_type="smart") for m in mpxns])
        readmodels.apply_accounts(conn, [AccountChanged(account_id="A1", revision=1, customer_id="C1",
                                                        customer_name="C", account_name="A", users=[USER])])
        for m in mpxns:
            for period in ("day", "month"):
                store.create(conn, Tracker(f"T-{period}-{m}", "bench", "site", m, "electricity", period, amount),
                             USER.user_id, USER.email, "customer", datetime.now(timezone.utc))


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def run(scale: float = 1.0) -> list[dict]:
    meters, days = max(10, int(100 * scale)), 30
    mpxns = [f"{1900000000000 + i}" for i in range(meters)]
    reads = _reads(mpxns, days)
    payloads = [r.model_dump_json().encode() for r in reads]

    started = time.perf_counter()
    for p in payloads:
        MeterDayRead.model_validate_json(p)
    parse_rate = len(payloads) / (time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'alerts.db'}"
        db.upgrade("alerts", url)
        engine = db.make_engine(url)
        _seed(engine, mpxns, Decimal("1000000"))  # never fires: pure evaluation cost
        started = time.perf_counter()
        for i in range(0, len(payloads), 500):
            batch = [MeterDayRead.model_validate_json(p) for p in payloads[i:i + 500]]
            with engine.begin() as conn:
                evaluation.on_reads(conn, batch, TODAY, datetime.now(timezone.utc))
        eval_rate = len(payloads) / (time.perf_counter() - started)
        engine.dispose()

        url = f"sqlite:///{Path(tmp) / 'latency.db'}"
        db.upgrade("alerts", url)
        engine = db.make_engine(url)
        _seed(engine, mpxns[:20], Decimal("1"))  # every read fires its day tracker
        latencies = []
        for read in _reads(mpxns[:20], 5, kwh=0.5):
            received = time.perf_counter()
            with engine.begin() as conn:
                recorded = evaluation.on_reads(conn, [read], TODAY, datetime.now(timezone.utc))
            if recorded:
                latencies.append((time.perf_counter() - received) * 1000)
        engine.dispose()

    p50, p95 = _percentile(latencies, 50), _percentile(latencies, 95)
    return [
        {"scenario": f"alerts: tracker evaluation, {meters} meters x {days} days, 2 trackers each",
         "measured": f"{eval_rate:,.0f} meter-days/s", "baseline": f"raw parse {parse_rate:,.0f} meter-days/s",
         "ratio": eval_rate / parse_rate, "target": f">= {DAILY_TARGET:,.0f}/s (100k meters' D+1 day in 10 min)",
         "ok": eval_rate >= DAILY_TARGET},
        {"scenario": "alerts: read-to-notification latency (evaluate + record + outbox, one read)",
         "measured": f"p50 {p50:.1f} ms / p95 {p95:.1f} ms", "baseline": "p95 target 250 ms",
         "ratio": p95 / 250, "target": "p95 <= 250 ms", "ok": p95 <= 250},
    ]
