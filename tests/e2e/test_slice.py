"""The thin end-to-end slice on the real embedded broker, every service a process:
a meter-day sent to ingest is stored by portfolio and returned by the gateway,
reaches alerts, a gas one reaches aq, and an invalid one is recorded with its
reason and published to the rejected topic."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from aiokafka import AIOKafkaConsumer

from shared.contracts import REJECTED
from shared.contracts.events import RejectedRow
from shared.synthetic.demo import demo_dataset
from shared.synthetic.files import wide_csv
from shared.synthetic.meters import meter_day
from tests.e2e.conftest import TODAY

pytestmark = pytest.mark.e2e


def points(fuel: str):
    return [p for _, p in demo_dataset(TODAY).supply_points() if p.spec.fuel == fuel and p.settlement == "nhh"]


def one_day_file(spec, day: date) -> bytes:
    return "".join(wide_csv([(spec.mpxn, day, meter_day(spec, day))], header_day=day)).encode()


async def rejected_events(bootstrap: str, batch_id: str, timeout: float = 30) -> list[RejectedRow]:
    consumer = AIOKafkaConsumer(REJECTED.name, bootstrap_servers=bootstrap, group_id=f"test-{batch_id}",
                                auto_offset_reset="earliest", rebalance_timeout_ms=5000, session_timeout_ms=10000,
                                heartbeat_interval_ms=1000)
    await consumer.start()
    found: list[RejectedRow] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not found and asyncio.get_running_loop().time() < deadline:
            for messages in (await consumer.getmany(timeout_ms=1000)).values():
                found += [e for m in messages if (e := RejectedRow.model_validate_json(m.value)).batch_id == batch_id]
    finally:
        await consumer.stop()
    return found


def test_meter_days_flow_to_every_service(demo_stack):
    ops, customer = demo_stack.ops, demo_stack.customer
    day = TODAY - timedelta(days=3)
    power, gas = points("electricity")[0].spec, points("gas")[0].spec
    before = ops.get("/api/v1/ops/status")

    for spec in (power, gas):
        batch = ops.upload(f"{spec.mpxn}.csv", one_day_file(spec, day))
        assert batch["counts"]["accepted"] == 1, batch
        assert batch["detected_format"]

    status = ops.wait_for(
        lambda s: s["portfolio"]["meter_days"] >= before["portfolio"]["meter_days"] + 2
        and s["alerts"]["meter_days"] >= before["alerts"]["meter_days"] + 2
        and s["aq"]["gas_days"] >= before["aq"]["gas_days"] + 1,
        "the reads to reach portfolio, alerts and aq", timeout=90)
    assert status["ingest"]["outbox_pending"] == 0

    expected = meter_day(power, day)
    got = customer.get(f"/api/v1/sites/{power.mpxn}/consumption", start=day.isoformat(),
                       end=(day + timedelta(days=1)).isoformat(), granularity="hh")
    assert [i["consumption"] for i in got["intervals"]] == pytest.approx(expected.values)
    assert got["total"] == pytest.approx(sum(v for v in expected.values if v is not None))


def test_invalid_meter_day_is_recorded_and_published(demo_stack):
    ops = demo_stack.ops
    spec = points("electricity")[0].spec
    day = TODAY - timedelta(days=4)
    text = "".join(wide_csv([(spec.mpxn, day, meter_day(spec, day))], header_day=day))
    header, row = text.strip().splitlines()
    cells = row.split(",")
    cells[5] = "-1.5"  # a negative half-hour
    batch = ops.upload("bad.csv", f"{header}\n{','.join(cells)}\n".encode())
    assert batch["counts"]["rejected"] == 1 and batch["counts"]["accepted"] == 0

    rejections = ops.get(f"/api/v1/ingest/batches/{batch['batch_id']}/rejections")
    assert rejections == [{"row_number": 2, "mpxn": spec.mpxn, "settlement_date": day.isoformat(),
                           "reason_code": "negative_value", "reason": rejections[0]["reason"]}]
    assert "negative" in rejections[0]["reason"]

    published = asyncio.run(rejected_events(demo_stack.stack.settings.kafka_bootstrap_servers, batch["batch_id"]))
    assert [(e.mpxn, e.reason_code) for e in published] == [(spec.mpxn, "negative_value")]


def test_gateway_refuses_without_token_and_bad_input(demo_stack):
    import httpx

    r = httpx.get(f"{demo_stack.url}/api/v1/sites")
    assert r.status_code == 401
    bad = demo_stack.ops.http.post("/api/v1/ingest/files", files={"file": ("x.csv", b"\x00\x01garbage", "text/csv")})
    assert bad.status_code == 422 and "detail" in bad.json()
    customer = demo_stack.customer.http.post("/api/v1/ingest/files", files={"file": ("x.csv", b"a,b\n", "text/csv")})
    assert customer.status_code == 403
    assert demo_stack.customer.http.get("/api/v1/sites/0000000000000/consumption",
                                        params={"start": "2024-01-01", "end": "2024-01-02"}).status_code == 404
    assert demo_stack.customer.http.get("/api/v1/sites/x/consumption",
                                        params={"start": "yesterday", "end": "2024-01-02"}).status_code in (404, 422)


def test_replay_drives_a_fleet_through_the_api(demo_stack):
    from meterstream.replay import replay

    result = replay(demo_stack.ops, meters=20, days=3, rate=0, seed=99)
    assert result.meter_days == 60
    assert result.accepted + result.rejected <= 60 and result.accepted >= 55  # whole missing days are not sent


def test_operational_endpoints_and_docs(demo_stack):
    import httpx

    base = demo_stack.url
    assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
    ready = httpx.get(f"{base}/readyz").json()
    assert ready["status"] == "ok" and set(ready["checks"]) >= {"bus", "cache", "ingest", "portfolio", "alerts", "aq"}
    metrics = httpx.get(f"{base}/metrics").text
    assert "meterstream_http_request_seconds" in metrics
    spec = httpx.get(f"{base}/openapi.json").json()
    assert "/api/v1/auth/token" in spec["paths"] and "/api/v1/sites/{mpxn}/consumption" in spec["paths"]
    assert "/api/v1/ingest/files" in spec["paths"]
    assert not any(p.startswith("/internal") for p in spec["paths"])
    docs = httpx.get(f"{base}/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs
    assert httpx.get(f"{base}/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_unsubscribe_link_works_without_a_login(demo_stack):
    import httpx

    r = httpx.get(f"{demo_stack.url}/api/v1/notifications/unsubscribe", params={"token": "not-a-valid-token"})
    assert r.status_code in (400, 404, 422), r.text  # reaches alerts, which refuses the bad token
    assert httpx.get(f"{demo_stack.url}/api/v1/notifications").status_code == 401


def test_an_opt_out_purges_ingests_copy_and_refuses_the_next_file(demo_stack):
    """A micro-business opting out inside its window: portfolio publishes the change,
    ingest purges the meter-day versions it keeps for those supply points (its audit
    trail included) and refuses their next file with the reason."""
    from shared.synthetic.demo import CORNER_CAFE_ACCOUNT

    ops = demo_stack.ops
    cafe = next(p.spec for site, p in demo_dataset(TODAY).supply_points()
                if site.account_id == CORNER_CAFE_ACCOUNT and p.spec.fuel == "electricity")
    day = TODAY - timedelta(days=2)
    stored = ops.upload("cafe.csv", one_day_file(cafe, day))
    assert stored["counts"]["accepted"] == 1, stored
    versions = ops.get("/api/v1/ops/status")["ingest"]["meter_day_versions"]

    r = demo_stack.broker.http.post(f"/api/v1/accounts/{CORNER_CAFE_ACCOUNT}/opt-out")
    assert r.status_code == 200, r.text
    assert r.json()["account"]["enrolment_status"] == "opted_out"
    ops.wait_for(lambda s: s["ingest"]["meter_day_versions"] == versions - 1,
                 "ingest to purge the opted-out supply point's versions", timeout=60)

    refused = ops.upload("cafe-again.csv", one_day_file(cafe, day))
    assert (refused["counts"]["accepted"], refused["counts"]["rejected"]) == (0, 1), refused
    [rejection] = ops.get(f"/api/v1/ingest/batches/{refused['batch_id']}/rejections")
    assert rejection["mpxn"] == cafe.mpxn and rejection["reason_code"] == "opted_out"
