"""Personal thresholds over the API (kinds, every range boundary, hidden when
disabled) and a bill period run day by day on a manual business clock."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.alerts import evaluation
from services.alerts.adapters import readmodels
from services.alerts.adapters import tables as t
from services.alerts.adapters.clock import ManualClock
from services.alerts.entrypoints.api import Context, routers
from services.alerts.highbill import run_day, threshold_settings
from shared import db, readmodel
from shared.auth import Principal
from tests.integration.test_alerts_trackers import account, days, read, supply_point

pytestmark = pytest.mark.integration

ALEX = Principal(user_id="USR-ALEX", email="alex@example.com", role="customer")
BEA = Principal(user_id="USR-BEA", email="bea@example.com", role="customer")
BROKER = Principal(user_id="USR-BRK", email="broker@example.com", role="broker")
POWER, CAFE = "1200023305967", "2100001388460"


def build(settings):
    url = settings.database_url_for("alerts")
    db.upgrade("alerts", url)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        readmodel.apply(conn, t.supply_points, [supply_point(POWER, "electricity", "A1"),
                                                supply_point(CAFE, "electricity", "B1")])
        readmodels.apply_accounts(conn, [
            account("A1", [ALEX, BROKER], has_modelled_rates=True, unit_rate_per_kwh=0.3),
            account("A2", [ALEX, BROKER]),  # no modelled rates: the customer gets a usage threshold
            account("B1", [BEA, BROKER], customer_id="C2", has_modelled_rates=True, unit_rate_per_kwh=0.3),
        ])
    ctx = Context(engine, ManualClock(date(2024, 10, 4)), settings, notified=lambda: None,
                  thresholds_changed=lambda: None)
    app = FastAPI()
    for r in routers(ctx):
        app.include_router(r)
    app.state.settings = settings
    return ctx, app


def api(app, principal, settings) -> TestClient:
    c = TestClient(app)
    c.headers.update({"X-Internal-Token": settings.internal_key, "X-Principal": principal.model_dump_json()})
    return c


@pytest.mark.parametrize(("who", "kind", "value", "status", "code"), [
    (ALEX, "usage", 0, 200, None),
    (ALEX, "usage", 1000, 200, None),
    (ALEX, "usage", 30, 200, None),
    (ALEX, "usage", -0.01, 422, "out_of_range"),
    (ALEX, "usage", 1000.01, 422, "out_of_range"),
    (ALEX, "cost", 100, 422, "wrong_kind"),  # one account without modelled rates
    (BEA, "cost", 1, 200, None),
    (BEA, "cost", 100_000_000, 200, None),
    (BEA, "cost", 0.99, 422, "out_of_range"),
    (BEA, "cost", 100_000_000.01, 422, "out_of_range"),
    (BEA, "usage", 30, 422, "wrong_kind"),
    (BEA, "cost", "lots", 422, "not_a_number"),
])
def test_threshold_kinds_and_ranges(settings, who, kind, value, status, code):
    ctx, app = build(settings)
    r = api(app, who, settings).put("/api/v1/thresholds", json={"kind": kind, "value": value})
    assert r.status_code == status, r.text
    if code:
        assert r.json()["detail"]["code"] == code and r.json()["detail"]["message"]
    else:
        assert r.json()["personal"]["kind"] == kind
    ctx.engine.dispose()


def test_threshold_defaults_customer_choice_and_hidden_module(settings):
    ctx, app = build(settings)
    got = api(app, ALEX, settings).get("/api/v1/thresholds").json()
    assert got["allowed_kind"] == "usage" and got["personal"] is None
    assert got["effective"]["source"] == "utility_default" and "30%" in got["explanation"]
    broker = api(app, BROKER, settings)
    assert broker.get("/api/v1/thresholds").status_code == 422  # manages two customers
    assert broker.get("/api/v1/thresholds", params={"customer_id": "C2"}).json()["allowed_kind"] == "cost"
    assert broker.get("/api/v1/thresholds", params={"customer_id": "C9"}).status_code == 404
    ctx.engine.dispose()

    hidden_ctx, hidden = build(settings.model_copy(update={"personal_thresholds_enabled": False}))
    r = api(hidden, ALEX, settings).get("/api/v1/thresholds")
    assert r.status_code == 404 and "not enabled" in r.json()["detail"]
    assert api(hidden, ALEX, settings).put("/api/v1/thresholds", json={"kind": "usage", "value": 5}).status_code == 404
    hidden_ctx.engine.dispose()


def test_a_bill_period_day_by_day(settings):
    ctx, app = build(settings)
    # A year and a month of history at 0.25 kWh per half hour; this October at 0.5 from the 5th.
    history = days(date(2023, 9, 1), date(2024, 10, 1))
    with ctx.engine.begin() as conn:
        evaluation.on_reads(conn, [read(POWER, d, 0.25) for d in history], date(2024, 10, 1), ctx.clock.now())
    decisions, sent = [], []
    for day in days(date(2024, 10, 2), date(2024, 11, 3)):
        ctx.clock.set(day)
        if day >= date(2024, 10, 6):  # D+1: yesterday's data arrives
            with ctx.engine.begin() as conn:
                evaluation.on_reads(conn, [read(POWER, day - timedelta(days=1), 0.5)], day, ctx.clock.now())
        summary = run_day(ctx.engine, day, threshold_settings(settings), ctx.clock.now())
        sent.append(summary["notifications"])
        decisions.append(api(app, ALEX, settings).get("/api/v1/high-bill/accounts/A1").json())

    reasons = [d["reason"] for d in decisions]
    assert "alert" in reasons
    first_alert = reasons.index("alert")
    # Reads start on 5 Oct: no decision until 75% of the possible reads since the 1st have arrived.
    assert first_alert > 0 and set(reasons[:first_alert]) == {"insufficient_reads"}
    assert decisions[first_alert]["read_coverage"] >= 0.75 > decisions[first_alert - 1]["read_coverage"]
    assert "75%" in decisions[0]["explanation"]
    # Once per (account, bill period, user): Alex only (brokers are not billed); November re-arms.
    assert sum(sent) == 2
    with ctx.engine.connect() as conn:
        ids = sorted(conn.execute(select(t.notifications.c.notification_id)).scalars())
    assert ids == ["high_bill:A1:2024-10-01/2024-11-01:USR-ALEX", "high_bill:A1:2024-11-01/2024-12-01:USR-ALEX"]
    assert decisions[-1]["period_start"] == "2024-11-01"
    assert api(app, BEA, settings).get("/api/v1/high-bill/accounts/A1").status_code == 404
    ctx.engine.dispose()
