"""The read-optimised month arrays: maintained by the reads sink with the same
highest-version-wins semantics as the meter-days, seen at once through the
cached read path, purged with the meter-days, and backfilled by the migration.
Real database (SQLite, or PostgreSQL with DATABASE_URL)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from alembic import command
from sqlalchemy import select

from services.portfolio.adapters import repository as repo
from services.portfolio.adapters import tables as t
from services.portfolio.domain.consumption import Block
from shared import db
from shared.hh import encode_values, periods_in_day
from shared.synthetic.demo import demo_dataset
from tests.integration.portfolio_harness import callers, portfolio_service, read

pytestmark = pytest.mark.integration

TODAY = date.today()
DAYS = [date(2024, 10, 30), date(2024, 10, 31), date(2024, 11, 1)]  # across a month end, after the clock change


def _constant(event, value: float, version: int):
    n = periods_in_day(event.settlement_date)
    return event.model_copy(update={"kwh": [value] * n, "quality": "A" * n, "version": version,
                                    "event_id": f"{event.mpxn}:{event.settlement_date}:{version}"})


@pytest.fixture(scope="module")
def world(tmp_path_factory, broker):
    from tests.conftest import fresh_server_database, test_settings

    with fresh_server_database() as url:
        settings = test_settings(tmp_path_factory.mktemp("portfolio-months") / "run", broker, url)
        with portfolio_service(settings, TODAY) as (client, service):
            ops = callers(client, settings)["ops"]
            site = next(s for s in ops.get("/api/v1/sites").json()
                        if s["enrolment_status"] == "active" and s["fuel"] == "gas")
            spec = next(p.spec for _, p in demo_dataset(TODAY).supply_points() if p.mpxn == site["mpxn"])
            yield service, ops, site["mpxn"], spec


def _daily(ops, mpxn: str) -> list[float | None]:
    body = ops.get(f"/api/v1/sites/{mpxn}/consumption", start="2024-10-30", end="2024-11-02", granularity="day").json()
    return [i["consumption"] for i in body["intervals"]]


def _stamps(service, mpxn: str) -> dict[date, int]:
    with service.engine.connect() as conn:
        return dict(conn.execute(select(t.meter_months.c.month, t.meter_months.c.stamp)
                                 .where(t.meter_months.c.mpxn == mpxn)).tuples().all())


def test_highest_version_wins_in_the_month_arrays_and_reads_see_it(world):
    service, ops, mpxn, spec = world
    first = [_constant(read(spec, d), 1.0, 1) for d in DAYS]
    with service.engine.begin() as conn:
        repo.store_reads(conn, first)
    assert _daily(ops, mpxn) == [48.0, 48.0, 48.0]
    assert set(_stamps(service, mpxn)) == {date(2024, 10, 1), date(2024, 11, 1)}

    # A newer version replaces the day (the cached month is noticed as stale) ...
    with service.engine.begin() as conn:
        repo.store_reads(conn, [_constant(first[1], 2.0, 3), _constant(first[1], 9.0, 2)])
    assert _daily(ops, mpxn) == [48.0, 96.0, 48.0]
    # ... and a redelivered or older version changes nothing, not even the stamps.
    stamps = _stamps(service, mpxn)
    with service.engine.begin() as conn:
        repo.store_reads(conn, [_constant(first[1], 5.0, 2), first[2]])
    assert _stamps(service, mpxn) == stamps and _daily(ops, mpxn) == [48.0, 96.0, 48.0]

    # Gaps stay gaps and show in the coverage.
    gappy = first[2].model_copy(update={"kwh": [None] * 24 + [1.0] * 24, "version": 4})
    with service.engine.begin() as conn:
        repo.store_reads(conn, [gappy])
    body = ops.get(f"/api/v1/sites/{mpxn}/consumption", start="2024-11-01", end="2024-11-02", granularity="hh").json()
    assert [i["consumption"] for i in body["intervals"][:24]] == [None] * 24 and body["coverage"] == 0.5
    assert body["intervals"][24]["local_start"] == "2024-11-01T12:00:00+00:00"
    assert body["intervals"][24]["interval_start"] == "2024-11-01T12:00:00Z"


def test_purge_removes_the_month_arrays(world):
    service, ops, mpxn, spec = world
    with service.engine.begin() as conn:
        repo.store_reads(conn, [_constant(read(spec, date(2024, 12, 5)), 1.0, 1)])
        repo.purge_meter_days(conn, [mpxn])
    assert _stamps(service, mpxn) == {}
    assert _daily(ops, mpxn) == [None, None, None]


def test_migration_backfills_month_arrays_from_meter_days(server_database_url, tmp_path):
    url = server_database_url or f"sqlite:///{tmp_path / 'portfolio.db'}"
    command.upgrade(db.alembic_config("portfolio", url), "0002")
    engine = db.make_engine(url)
    days = t.meter_days
    with engine.begin() as conn:
        conn.execute(days.insert(), [
            {"mpxn": "1900000000001", "settlement_date": d, "version": 1, "content_hash": "x",
             "kwh": encode_values([float(d.day)] * periods_in_day(d)), "quality": "E" * periods_in_day(d), "flags": "",
             "received_at": datetime.now(timezone.utc)} for d in DAYS])
    db.upgrade("portfolio", url)
    mm = t.meter_months.c
    with engine.connect() as conn:
        blocks = {m: Block.decode(m, bytes(b), q) for m, b, q in conn.execute(select(mm.month, mm.kwh, mm.quality)).tuples()}
    engine.dispose()
    assert set(blocks) == {date(2024, 10, 1), date(2024, 11, 1)}
    october = blocks[date(2024, 10, 1)]
    assert october.present is not None and int(october.present.sum()) == 2 * 48
    assert october.kwh.sum() == 30 * 48 + 31 * 48 and int(october.estimated.sum()) == 2 * 48

