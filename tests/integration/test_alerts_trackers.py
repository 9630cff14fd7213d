"""Trackers against a real database (SQLite, or PostgreSQL with DATABASE_URL):
the API with object-level authorisation, evaluation on read batches, once per
(tracker, period, kind) with re-arming, and re-evaluation on late data."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.alerts import evaluation
from services.alerts.adapters import readmodels
from services.alerts.adapters import tables as t
from services.alerts.adapters.clock import ManualClock
from services.alerts.entrypoints.api import Context, routers
from shared import db, readmodel
from shared.auth import Principal
from shared.contracts.events import AccountChanged, AccountUser, MeterDayRead, PortfolioGroupChanged, SupplyPointChanged
from shared.hh import periods_in_day

pytestmark = pytest.mark.integration

POWER, GAS, OTHER = "1200023305967", "8830152264", "1900000000011"
ALEX = Principal(user_id="USR-ALEX", email="alex@example.com", role="customer")
EVE = Principal(user_id="USR-EVE", email="eve@example.com", role="customer")
TODAY = date(2024, 10, 20)


def supply_point(mpxn: str, fuel: str, account: str) -> SupplyPointChanged:
    return SupplyPointChanged(mpxn=mpxn, revision=1, fuel=fuel, site_id=f"S-{mpxn}", site_name="Site",
                              account_id=account, customer_id="C1", meter_type="smart")


def account(account_id: str, users: list[Principal], revision: int = 1, **kw) -> AccountChanged:
    return AccountChanged(account_id=account_id, revision=revision, customer_id=kw.pop("customer_id", "C1"),
                          customer_name="Northwind", account_name=f"Account {account_id}",
                          users=[AccountUser(user_id=u.user_id, email=u.email, role=u.role) for u in users], **kw)


def read(mpxn: str, day: date, kwh_per_period: float, version: int = 1, fuel: str = "electricity") -> MeterDayRead:
    n = periods_in_day(day)
    return MeterDayRead(event_id=f"{mpxn}:{day}:{version}", mpxn=mpxn, fuel=fuel, settlement_date=day, version=version,
                        content_hash=f"h{version}{kwh_per_period}", kwh=[kwh_per_period] * n, quality="A" * n,
                        batch_id="b", received_at=datetime.now(timezone.utc))


def days(start: date, end: date):
    return [start + timedelta(days=i) for i in range((end - start).days)]


@pytest.fixture
def world(settings):
    url = settings.database_url_for("alerts")
    db.upgrade("alerts", url)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        readmodel.apply(conn, t.supply_points, [supply_point(POWER, "electricity", "A1"),
                                                supply_point(GAS, "gas", "A1"),
                                                supply_point(OTHER, "electricity", "A2")])
        readmodels.apply_accounts(conn, [account("A1", [ALEX], unit_rate_per_kwh=0.25, has_modelled_rates=True),
                                         account("A2", [EVE])])
        readmodels.apply_groups(conn, [PortfolioGroupChanged(group_id="G1", revision=1, owner_user_id=ALEX.user_id,
                                                             name="HQ", mpxns=[POWER, GAS, OTHER])])
    clock = ManualClock(TODAY)
    notified: list[int] = []
    ctx = Context(engine, clock, settings, notified=lambda: notified.append(1), thresholds_changed=lambda: None)
    app = FastAPI()
    for r in routers(ctx):
        app.include_router(r)
    app.state.settings = settings
    yield ctx, app
    engine.dispose()


def client(app, principal: Principal, settings) -> TestClient:
    c = TestClient(app)
    c.headers.update({"X-Internal-Token": settings.internal_key, "X-Principal": principal.model_dump_json()})
    return c


def ingest(ctx, reads) -> list:
    with ctx.engine.begin() as conn:
        return evaluation.on_reads(conn, reads, ctx.clock.today(), ctx.clock.now())


def outbox_size(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.outbox)).scalar_one()


def tracker(**kw) -> dict:
    return {"name": "Office power", "scope": "site", "scope_id": POWER, "fuel": "electricity", "period": "month",
            "amount": 1000, **kw}


def test_tracker_api_authorises_validates_and_reports_progress(world, settings):
    ctx, app = world
    alex, eve = client(app, ALEX, settings), client(app, EVE, settings)
    ingest(ctx, [read(POWER, d, 0.25) for d in days(date(2024, 10, 1), TODAY)])  # 12 kWh a day

    created = alex.post("/api/v1/trackers", json=tracker())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["progress"]["period_label"] == "2024-10"
    assert body["progress"]["actual"] == pytest.approx(12 * 19)
    assert body["progress"]["projected"] == pytest.approx(12 * 31)
    assert body["progress"]["days_with_data"] == 19

    assert eve.post("/api/v1/trackers", json=tracker()).status_code == 404  # not her site
    wrong_fuel = alex.post("/api/v1/trackers", json=tracker(scope_id=GAS))
    assert wrong_fuel.status_code == 422 and "not electricity" in wrong_fuel.json()["detail"]
    assert alex.post("/api/v1/trackers", json=tracker(amount=0)).status_code == 422
    assert alex.post("/api/v1/trackers", json=tracker(period="custom")).status_code == 422
    # A2 has no modelled tariff, and Eve's portfolio is not hers.
    portfolio = alex.post("/api/v1/trackers", json=tracker(scope="portfolio", scope_id="G1", unit="money", amount=50))
    assert portfolio.status_code == 201, portfolio.text  # OTHER (account A2) is not visible to Alex, so all priced
    assert portfolio.json()["currency"] == "GBP"
    assert eve.post("/api/v1/trackers", json=tracker(scope="portfolio", scope_id="G1")).status_code == 404

    tid = body["tracker_id"]
    assert {t["tracker_id"] for t in alex.get("/api/v1/trackers").json()} == {tid, portfolio.json()["tracker_id"]}
    assert eve.get(f"/api/v1/trackers/{tid}").status_code == 404
    paused = alex.patch(f"/api/v1/trackers/{tid}", json={"paused": True, "amount": 2000})
    assert paused.status_code == 200 and paused.json()["paused"] and paused.json()["progress"]["amount"] == 2000
    assert alex.patch(f"/api/v1/trackers/{tid}", json={"amount": -5}).status_code == 422
    assert alex.delete(f"/api/v1/trackers/{tid}").status_code == 204
    assert alex.get(f"/api/v1/trackers/{tid}").status_code == 404


def test_alerts_once_per_period_and_kind_then_rearm(world, settings):
    ctx, app = world
    alex = client(app, ALEX, settings)
    tid = alex.post("/api/v1/trackers", json=tracker(amount=200)).json()["tracker_id"]
    october = days(date(2024, 10, 1), date(2024, 10, 11))

    sent = ingest(ctx, [read(POWER, d, 0.25) for d in october])  # 120 kWh so far, projected 372 > 200
    assert [(n.kind, n.notification_id) for n in sent] == [("tracker_projected", f"tracker_projected:{tid}:2024-10")]
    assert sent[0].recipient == ALEX.user_id and sent[0].email == ALEX.email and sent[0].sms
    assert ingest(ctx, [read(POWER, d, 0.25) for d in october]) == []  # redelivered: nothing new

    more = ingest(ctx, [read(POWER, d, 0.25) for d in days(date(2024, 10, 11), date(2024, 10, 19))])
    assert [n.kind for n in more] == ["tracker_exceeded"]  # 216 kWh > 200
    revised = ingest(ctx, [read(POWER, date(2024, 10, 1), 1.0, version=2)])
    assert revised == []  # the exceeded alert for October is already sent

    ctx.clock.set(date(2024, 11, 20))
    november = ingest(ctx, [read(POWER, d, 0.5) for d in days(date(2024, 11, 1), date(2024, 11, 20))])
    assert [n.notification_id for n in november] == [f"tracker_exceeded:{tid}:2024-11"]  # re-armed
    assert outbox_size(ctx) == 3


def test_late_data_reevaluates_its_own_past_period(world, settings):
    ctx, app = world
    alex = client(app, ALEX, settings)
    tid = alex.post("/api/v1/trackers", json=tracker(period="week", amount=100)).json()["tracker_id"]
    ingest(ctx, [read(POWER, d, 0.1) for d in days(date(2024, 10, 7), date(2024, 10, 14))])  # 33.6 kWh
    late = ingest(ctx, [read(POWER, date(2024, 10, 8), 2.0, version=2)])  # revised up: 33.6 - 4.8 + 96
    assert [n.notification_id for n in late] == [f"tracker_exceeded:{tid}:2024-W41"]


def test_paused_tracker_stays_quiet_until_resumed(world, settings):
    ctx, app = world
    alex = client(app, ALEX, settings)
    tid = alex.post("/api/v1/trackers", json=tracker(period="day", amount=5, paused=True)).json()["tracker_id"]
    assert ingest(ctx, [read(POWER, date(2024, 10, 19), 1.0)]) == []
    alex.patch(f"/api/v1/trackers/{tid}", json={"paused": False})  # evaluated on resume
    with ctx.engine.connect() as conn:
        ids = set(conn.execute(select(t.notifications.c.notification_id)).scalars())
    assert ids == {f"tracker_exceeded:{tid}:2024-10-19"}
    assert ctx.notified
