"""Portfolio groups, consumption with coverage, missing sites, accounts,
opt-out and contacts through the service's HTTP API, on the real broker and
database (SQLite, or PostgreSQL with DATABASE_URL)."""
from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from services.portfolio.adapters import repository as repo
from services.portfolio.adapters import tables as t
from shared.bus import consume_batches
from shared.contracts import ACCOUNTS, GROUPS, SUPPLY_POINTS
from shared.synthetic.demo import CORNER_CAFE_ACCOUNT, HEAD_OFFICE, HH_SETTLED_SITE, MANCHESTER_DEPOT, demo_dataset
from shared.hh import periods_in_day
from tests.integration.portfolio_harness import callers, portfolio_service, read

pytestmark = pytest.mark.integration

TODAY = date.today()
DAYS = [TODAY - timedelta(days=n) for n in range(10, 3, -1)]  # a week of history


@pytest.fixture(scope="module")
def world(tmp_path_factory, broker):
    from tests.conftest import fresh_server_database, test_settings

    with fresh_server_database() as url:
        settings = test_settings(tmp_path_factory.mktemp("portfolio") / "run", broker, url)
        with portfolio_service(settings, TODAY) as (client, service):
            dataset = demo_dataset(TODAY)
            reads = [read(p.spec, d) for _, p in dataset.supply_points() for d in DAYS]
            with service.engine.begin() as conn:
                repo.store_reads(conn, reads)
            yield settings, client, service, dataset


def test_groups_lifecycle_and_events(world):
    settings, client, service, dataset = world
    c = callers(client, settings)
    listed = c["customer"].get("/api/v1/portfolios").json()
    assert listed[0]["id"] == "all" and listed[0]["fuels"] == ["electricity", "gas"]
    assert {p["id"] for p in listed} >= {"all", "PG-HQ-DEPOTS"}

    created = c["customer"].post("/api/v1/portfolios", {"name": "London", "site_ids": [HEAD_OFFICE]})
    assert created.status_code == 201, created.text
    gid = created.json()["id"]
    assert created.json()["fuels"] == ["electricity", "gas"]
    assert c["customer"].post("/api/v1/portfolios", {"name": "London"}).status_code == 409
    assert c["customer"].post("/api/v1/portfolios", {"name": "Cafe", "site_ids": ["SITE-CDF-CAFE"]}).status_code == 404
    changed = c["customer"].patch(f"/api/v1/portfolios/{gid}", {"name": "South", "add_site_ids": [MANCHESTER_DEPOT],
                                                                "remove_site_ids": [HEAD_OFFICE]}).json()
    assert changed["name"] == "South" and changed["site_ids"] == [MANCHESTER_DEPOT]
    assert c["broker"].get(f"/api/v1/portfolios/{gid}").status_code == 404
    assert c["broker"].delete(f"/api/v1/portfolios/{gid}").status_code == 404
    assert c["customer"].patch("/api/v1/portfolios/all", {"name": "x"}).status_code == 409
    assert c["customer"].delete(f"/api/v1/portfolios/{gid}").status_code == 204
    assert c["customer"].get(f"/api/v1/portfolios/{gid}").status_code == 404

    seen = asyncio.run(_until(settings, GROUPS, lambda e: e.group_id == gid and e.deleted))
    mine = [e for e in seen if e.group_id == gid]
    assert [e.revision for e in mine] == sorted(e.revision for e in mine)
    assert mine[-1].deleted and any(e.name == "South" for e in mine)


async def _until(settings, topic, predicate, timeout=30.0):
    seen: list = []
    stop = asyncio.Event()
    async def handle(batch):
        seen.extend(env.event for env in batch)
        if any(predicate(e) for e in seen):
            stop.set()

    task = asyncio.create_task(consume_batches(settings, "test", f"test-{uuid.uuid4().hex[:6]}", [topic], handle, stop))
    try:
        await asyncio.wait_for(stop.wait(), timeout)
    finally:
        stop.set()
        await task
    return seen


def test_accounts_published_with_billing_facts(world):
    settings, *_ = world
    seen = asyncio.run(_until(settings, ACCOUNTS, lambda e: e.account_id == CORNER_CAFE_ACCOUNT))
    cafe = [e for e in seen if e.account_id == CORNER_CAFE_ACCOUNT][-1]
    assert cafe.bill_cycle_day == 8 and cafe.unit_rate_per_kwh == pytest.approx(0.268)
    assert {u.role for u in cafe.users} == {"broker"}


def test_portfolio_consumption_coverage_and_fuel(world):
    settings, client, service, dataset = world
    c = callers(client, settings)
    start, end = DAYS[0].isoformat(), (DAYS[-1] + timedelta(days=1)).isoformat()
    r = c["customer"].get("/api/v1/portfolios/all/consumption", start=start, end=end, granularity="day")
    assert r.status_code == 422 and "both electricity and gas" in r.json()["detail"]
    body = c["customer"].get("/api/v1/portfolios/all/consumption", start=start, end=end, granularity="day",
                             fuel="electricity").json()
    power = [p for s, p in dataset.supply_points() if p.spec.fuel == "electricity" and s.account_id != CORNER_CAFE_ACCOUNT]
    assert body["supply_points_expected"] == len(power) == 9
    # The HH-settled site never reports: coverage tells, the sum is not padded.
    assert all(i["coverage"] <= 8 / 9 + 1e-4 for i in body["intervals"])
    assert len(body["intervals"]) == len(DAYS)
    expected = sum(read(p.spec, d).kwh[k] or 0 for p in power if p.settlement == "nhh" for d in DAYS
                   for k in range(periods_in_day(d)))
    assert body["total"] == pytest.approx(expected)
    hourly = c["customer"].get("/api/v1/portfolios/PG-HQ-DEPOTS/consumption", start=start, end=end, granularity="hour",
                               fuel="gas", compare="last_year").json()
    assert len(hourly["intervals"]) == sum(periods_in_day(d) for d in DAYS) // 2
    assert hourly["last_year"]["total"] is None and hourly["last_year"]["coverage"] == 0
    assert all(i["consumption"] is None for i in hourly["last_year"]["intervals"])


def test_missing_sites_reasons(world):
    settings, client, *_ = world
    c = callers(client, settings)
    start, end = DAYS[0].isoformat(), (DAYS[-1] + timedelta(days=1)).isoformat()
    missing = c["broker"].get("/api/v1/portfolios/all/missing-sites", start=start, end=end).json()
    reasons = {m["site_id"]: m["reason"] for m in missing if m["reason"] != "incomplete_data"}
    assert reasons == {HH_SETTLED_SITE: "not_onboarded", "SITE-CDF-CAFE": "opt_out_window"}
    # The synthetic meters drop the odd reading: partial coverage is listed with its share.
    assert all(0 < m["coverage"] < 1 for m in missing if m["reason"] == "incomplete_data")
    far = c["customer"].get("/api/v1/portfolios/all/missing-sites", start="2020-01-01", end="2020-01-02").json()
    assert {m["reason"] for m in far} == {"not_onboarded", "no_data"}


def test_accounts_contacts_and_opt_out(world):
    settings, client, service, dataset = world
    c = callers(client, settings)
    accounts = {a["id"]: a for a in c["broker"].get("/api/v1/accounts").json()}
    assert accounts[CORNER_CAFE_ACCOUNT]["enrolment_status"] == "opt_out_window"
    assert len(c["customer"].get("/api/v1/accounts").json()) == 2
    assert c["customer"].get(f"/api/v1/accounts/{CORNER_CAFE_ACCOUNT}").status_code == 404
    assert c["customer"].post(f"/api/v1/accounts/{CORNER_CAFE_ACCOUNT}/opt-out").status_code == 404
    assert c["customer"].post("/api/v1/accounts/300104512/opt-out").status_code == 409

    contacts = {x["id"]: x for x in c["customer"].get("/api/v1/contacts").json()}
    assert contacts["CON-NW-GENERAL"]["editable"] is False
    refused = c["customer"].patch("/api/v1/contacts/CON-NW-GENERAL", {"phone": "0123"})
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    ok = c["customer"].patch("/api/v1/contacts/CON-NW-FACILITIES", {"phone": "0161 000 0000"})
    assert ok.status_code == 200 and ok.json()["phone"] == "0161 000 0000"
    assert c["broker"].patch("/api/v1/contacts/CON-NW-FACILITIES", {"email": "not an email"}).status_code == 422

    cafe_power = next(p for s, p in dataset.supply_points() if s.account_id == CORNER_CAFE_ACCOUNT)
    # Held during the window: stored but not shown.
    held = c["broker"].get(f"/api/v1/sites/{cafe_power.mpxn}/consumption", start=DAYS[0].isoformat(),
                           end=DAYS[1].isoformat()).json()
    assert held["total"] is None
    result = c["broker"].post(f"/api/v1/accounts/{CORNER_CAFE_ACCOUNT}/opt-out")
    assert result.status_code == 200, result.text
    assert result.json()["meter_days_purged"] == 2 * len(DAYS)
    assert result.json()["account"]["enrolment_status"] == "opted_out"
    with service.engine.begin() as conn:  # a redelivery stays purged
        repo.store_reads(conn, [read(cafe_power.spec, DAYS[0], version=2)])
        assert conn.execute(select(func.count()).select_from(t.meter_days)
                            .where(t.meter_days.c.mpxn == cafe_power.mpxn)).scalar_one() == 0
    seen = asyncio.run(_until(settings, SUPPLY_POINTS, lambda e: e.mpxn == cafe_power.mpxn and e.enrolment_status == "opted_out"))
    assert [e for e in seen if e.mpxn == cafe_power.mpxn][-1].revision >= 2
    assert c["broker"].post(f"/api/v1/accounts/{CORNER_CAFE_ACCOUNT}/opt-out").status_code == 409


def test_exports_three_layouts_csv_and_xlsx(world):
    import csv
    import io

    from openpyxl import load_workbook

    settings, client, service, dataset = world
    c = callers(client, settings)
    start, end = DAYS[0].isoformat(), (DAYS[1] + timedelta(days=1)).isoformat()
    long = c["customer"].get("/api/v1/portfolios/PG-HQ-DEPOTS/export", start=start, end=end, layout="long")
    assert long.status_code == 200 and "attachment" in long.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(long.text)))
    periods = periods_in_day(DAYS[0]) + periods_in_day(DAYS[1])
    assert len(rows) == 6 * periods  # 3 sites x 2 supply points
    gap = [r for r in rows if r["kwh"] == ""]
    assert all(r["quality"] == "" for r in gap)

    wide = c["customer"].get("/api/v1/portfolios/PG-HQ-DEPOTS/export", start=start, end=end, layout="wide", fuel="gas")
    wide_rows = list(csv.reader(io.StringIO(wide.text)))
    assert wide_rows[0][:5] == ["mpxn", "site_id", "fuel", "date", "periods"] and len(wide_rows[0]) == 55
    assert len(wide_rows) == 1 + 3 * 2

    xlsx = c["customer"].get("/api/v1/portfolios/PG-HQ-DEPOTS/export", start=start, end=end, layout="totals",
                             granularity="hour", fuel="electricity", format="xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][0] == "interval_start_utc" and len(table) == 1 + periods // 2
    assert c["customer"].get("/api/v1/portfolios/all/export", start=start, end=end, layout="totals").status_code == 422
    assert c["customer"].get("/api/v1/portfolios/all/export", start=start, end=end, layout="bogus").status_code == 422


def test_temperature_and_expected(world):
    settings, client, service, dataset = world
    c = callers(client, settings)
    power = next(p for s, p in dataset.supply_points() if s.site_id == HEAD_OFFICE)
    temps = c["customer"].get(f"/api/v1/sites/{power.mpxn}/temperature", start=(TODAY - timedelta(days=1)).isoformat(),
                              end=(TODAY + timedelta(days=2)).isoformat()).json()  # observed hours even just after midnight
    assert temps["provider"] == "reference" and temps["location"] == "London"
    assert {h["kind"] for h in temps["hours"]} == {"observed", "forecast"}
    assert c["customer"].get("/api/v1/sites/210000138846/temperature", start="2024-01-01", end="2024-01-02").status_code == 404

    exp = c["customer"].get("/api/v1/portfolios/PG-HQ-DEPOTS/expected", period="next", fuel="gas").json()
    # A week of history is far from the 270 days a model needs.
    assert exp["expected_kwh"] is None and len(exp["insufficient"]) == 3
    assert {s["status"] for s in exp["sites"]} == {"insufficient_data"}
    assert c["customer"].get("/api/v1/portfolios/PG-HQ-DEPOTS/expected", period="later").status_code == 422


@pytest.mark.parametrize("path", ["/api/v1/sites/%00x/consumption",
                                  "/api/v1/portfolios/%00x", "/api/v1/accounts/%00", "/api/v1/contacts/" + "x" * 300])
def test_unstorable_ids_are_not_found(world, path):
    settings, client, *_ = world
    c = callers(client, settings)["customer"]
    r = c.patch(path, {}) if path.startswith("/api/v1/contacts") else c.get(path, start="2024-01-01", end="2024-01-02")
    assert r.status_code == 404
