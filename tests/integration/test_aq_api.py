"""The aq service in-process on the real embedded broker and a real database: events in through
its faust agents (redelivered too), the calendar worker, the API with its authorisation, events out."""
from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timezone

import httpx
import pytest
from sqlalchemy import select

from services.aq.adapters import tables as t
from services.aq.entrypoints.main import build
from services.aq.reference import ALP_DAF_SAMPLE, WEATHER_NORMAL_SAMPLE
from shared import db
from shared.bus import EventProducer, ensure_topics
from shared.contracts import ACCOUNTS, REGISTER_READS, SUPPLY_POINTS
from shared.contracts.events import AccountChanged, AccountUser, SupplyPointChanged
from shared.runtime import build_app
from tests.integration.test_aq_calendar_service import register_reads

pytestmark = pytest.mark.integration

MPRN = "7700112233"
NOW = datetime(2025, 1, 15, tzinfo=timezone.utc)


def principal(role: str, user_id: str) -> str:
    return json.dumps({"user_id": user_id, "email": f"{user_id}@example.com", "role": role})


async def eventually(check, what: str, timeout: float = 180.0):
    """Generous: a loaded CI machine is slow, and a timeout here says nothing about correctness."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last status: {_last_status}; "
                                 f"meter points: {_points()}")
        await asyncio.sleep(0.3)


def _points() -> list:
    """What the calendar holds of each point (for a timeout's message: this test has timed out on loaded CI)."""
    if _engine is None:
        return []
    with _engine.connect() as conn:
        return [(r.mprn, r.source, r.processed_through, r.lock_version, r.state[:400])
                for r in conn.execute(select(t.meter_points))]


_engine = None


def test_events_to_history_through_the_api(settings):
    global _engine
    settings = settings.model_copy(update={"aq_business_date": date(2025, 1, 15)})
    _engine = db.make_engine(settings.database_url_for("aq"))
    db.upgrade("aq", settings.database_url_for("aq"))
    asyncio.run(scenario(settings))


async def scenario(settings) -> None:
    await ensure_topics(settings)
    service = build(settings)
    app = build_app(service)
    producer = EventProducer(settings, "test")
    await producer.start()
    point = SupplyPointChanged(mpxn=MPRN, revision=1, fuel="gas", site_id="s1", site_name="Depot", account_id="acc1",
                               customer_id="c1", meter_type="amr", ldz="EA", registered_on=date(2019, 4, 1))
    account = AccountChanged(account_id="acc1", revision=1, customer_id="c1", customer_name="C", account_name="A",
                             users=[AccountUser(user_id="u-cust", email="c@example.com")])
    reads = register_reads(MPRN, date(2023, 11, 1), 14, 300.0)
    for _ in range(2):  # at-least-once: everything arrives twice
        await producer.send_many(SUPPLY_POINTS, [point])
        await producer.send_many(ACCOUNTS, [account])
        await producer.send_many(REGISTER_READS, reads)
    await producer.stop()

    headers = {"x-internal-token": settings.internal_key}

    def as_(role: str, user_id: str) -> dict:
        return {**headers, "x-principal": principal(role, user_id)}

    ops = as_("operations", "u-ops")
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://aq") as http:
            async def status() -> dict:
                return (await http.get("/internal/status", headers=headers)).json()

            await eventually(lambda: _ok(status, lambda s: s["meter_points"] == 1 and s["register_reads"] == 15),
                             "the supply point and the reads")
            got = (await http.get(f"/api/v1/meter-points/{MPRN}", headers=ops)).json()
            assert (got["source"], got["confirmation"], got["meter_class"], got["euc"]) == ("supply_point", "CO", 3, "01B")

            r = await http.put(f"/api/v1/meter-points/{MPRN}", headers=ops,
                               json={"aq_kwh": 100_000, "confirmation": "LI", "outstanding_offer": True})
            assert r.status_code == 200 and r.json()["euc"] == "02B" and r.json()["soq_kwh"] > 0
            assert (await http.put(f"/api/v1/meter-points/{MPRN}", headers=ops, json={"ldz": "XX"})).status_code == 422
            assert (await http.put("/api/v1/meter-points/12ab", headers=ops, json={})).status_code == 422
            assert (await http.put(f"/api/v1/meter-points/{MPRN}", headers=as_("customer", "u-cust"),
                                   json={})).status_code == 403
            bulk = "mprn,ldz,aq_kwh,meter_class,confirmation\n7700112234,SC,50000,4,RQ\n"
            r = await http.post("/api/v1/aq/meter-points/import", headers=ops, content=bulk)
            assert r.json() == {"created": 1, "updated": 0}
            r = await http.post("/api/v1/aq/meter-points/import", headers=ops, content="mprn,colour\n1234567,red\n")
            assert r.status_code == 422

            assert (await http.post("/api/v1/aq/clock/advance", headers=ops, params={"to": "2025-01-01"})).status_code == 422
            r = await http.post("/api/v1/aq/clock/advance", headers=ops, params={"to": "2025-02-27"})
            assert r.status_code == 200 and r.json()["business_date"] == "2025-02-27"
            await eventually(lambda: _ok(status, lambda s: s["points_behind"] == 0 and s["history"] > 0),
                             "the calendar to catch up")

            history = (await http.get(f"/api/v1/meter-points/{MPRN}/aq", headers=as_("customer", "u-cust"))).json()
            calculated = [h for h in history["history"] if h["kind"] == "calculated"]
            assert calculated and calculated[0]["business_date"] == "2025-02-10"
            assert calculated[0]["effective_from"] == "2025-03-01" and calculated[0]["aq_kwh"] > 0
            assert any(h["kind"] == "T04" and h["effective_from"] == "2025-03-01" for h in history["history"])
            for who in (as_("customer", "someone-else"), as_("broker", "u-broker")):
                assert (await http.get(f"/api/v1/meter-points/{MPRN}/aq", headers=who)).status_code == 404

            nrl = await http.get("/api/v1/aq/nrl", headers=ops, params={"month": "2025-02"})
            assert nrl.status_code == 200 and nrl.headers["content-type"].startswith("text/csv")
            lines = nrl.text.strip().splitlines()
            assert lines[0].startswith("record_type,mprn") and any(MPRN in line and "T04" in line for line in lines)
            assert (await http.get("/api/v1/aq/nrl", headers=ops, params={"month": "2025-13"})).status_code == 422

            r = await http.post(f"/api/v1/meter-points/{MPRN}/corrections", headers=ops,
                                json={"reason": "confirmed_theft", "aq_kwh": 140_000})
            assert r.status_code == 201
            assert (r.json()["status"], r.json()["effective_from"]) == ("accepted", "2025-03-01")
            r = await http.post(f"/api/v1/meter-points/{MPRN}/corrections", headers=ops,
                                json={"reason": "commencement_of_new_business", "aq_kwh": 1})
            assert (r.json()["status"], r.json()["reason_code"]) == ("rejected", "new_business_window_expired")
            assert (await http.post("/api/v1/meter-points/1111111/corrections", headers=ops,
                                    json={"reason": "confirmed_theft", "aq_kwh": 1})).status_code == 404

            r = await http.post("/api/v1/aq/reference/alp-daf", headers=ops, content=ALP_DAF_SAMPLE.read_bytes())
            assert r.status_code == 200 and r.json()["rows"] > 0
            r = await http.post("/api/v1/aq/reference/weather/normal", headers=ops,
                                content=WEATHER_NORMAL_SAMPLE.read_bytes())
            assert r.status_code == 200 and r.json()["rows"] > 0
            r = await http.post("/api/v1/aq/reference/alp-daf", headers=ops, content=b"nonsense,row\n")
            assert r.status_code == 422

            await eventually(lambda: _ok(status, lambda s: s["outbox_pending"] == 0 and service.outbox.published > 0),
                             "the outbox to drain")
            final = (await http.get(f"/api/v1/meter-points/{MPRN}/aq", headers=ops)).json()
            assert len([h for h in final["history"] if h["kind"] == "calculated"]) == 1  # redelivery changed nothing


_last_status: dict = {}


async def _ok(status, predicate) -> bool:
    _last_status.clear()
    _last_status.update(await status())
    return predicate(_last_status)
