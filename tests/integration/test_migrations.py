"""Every service's Alembic history builds exactly the schema its tables declare,
and ingest's migration to the version log keeps what was still to be published
(SQLite, or PostgreSQL when DATABASE_URL is set)."""
from __future__ import annotations

import importlib
from datetime import date, datetime, timezone

import orjson
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from shared import db

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", ["ingest", "portfolio", "alerts", "aq"])
def test_migrations_build_the_declared_schema(settings, service):
    url = settings.database_url_for(service)
    db.upgrade(service, url)
    engine = db.make_engine(url)
    metadata = importlib.import_module(f"services.{service}.adapters.tables").metadata
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": f"alembic_version_{service}"})
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_ingest_versions_get_seqs_and_the_relay_starts_before_the_oldest_unpublished(settings):
    from services.ingest.adapters import publishing

    url = settings.database_url_for("ingest")
    config = db.alembic_config("ingest", url)
    command.upgrade(config, "0004")
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO ingest_supply_points (mpxn, revision, fuel, site_id, site_name, account_id, customer_id, "
            "meter_type, settlement, micro_business, enrolment_status, active) VALUES "
            "('1200023305967', 1, 'electricity', 'S', 'S', 'A', 'C', 'smart', 'nhh', false, 'active', true)"))
        for hour, (day, version, current) in enumerate([(1, 1, False), (1, 2, True), (2, 1, True), (3, 1, True)]):
            conn.execute(text(
                "INSERT INTO ingest_meter_days (mpxn, settlement_date, version, current, content_hash, "
                "source_timestamp, batch_id, row_number, kwh, quality, source_unit, flags, received_at) VALUES "
                "('1200023305967', :day, :version, :current, 'h', :at, 'b', 1, :kwh, 'A', 'kWh', '', :at)"),
                {"day": date(2024, 5, day), "version": version, "current": current, "kwh": b"\0" * 8,
                 "at": datetime(2024, 5, 20, hour, tzinfo=timezone.utc)})
        for day in (2, 3):  # announced, not yet published
            conn.execute(text("INSERT INTO ingest_reads_outbox (mpxn, settlement_date, version, fuel) "
                              "VALUES ('1200023305967', :day, 1, 'electricity')"), {"day": date(2024, 5, day)})
    command.upgrade(config, "head")
    with engine.connect() as conn:
        numbered = [tuple(r) for r in conn.execute(text(
            "SELECT seq, version FROM ingest_meter_days ORDER BY seq")).all()]
        to_publish = [orjson.loads(p)["event_id"] for _, _, _, p in publishing.pending_reads(conn, 0, 10)]
    assert numbered == [(1, 1), (2, 2), (3, 1), (4, 1)]  # in arrival order
    assert to_publish == ["1200023305967:2024-05-02:1", "1200023305967:2024-05-03:1"]

    command.downgrade(config, "0004")
    with engine.connect() as conn:
        announced = conn.execute(text("SELECT settlement_date, version FROM ingest_reads_outbox ORDER BY id")).all()
    assert [(str(d), v) for d, v in announced] == [("2024-05-02", 1), ("2024-05-03", 1)]
    engine.dispose()



def test_ingest_versions_take_their_supply_points_fuel_and_no_seq_is_reused(settings):
    from services.ingest.adapters import tables as t

    url = settings.database_url_for("ingest")
    config = db.alembic_config("ingest", url)
    command.upgrade(config, "0006")
    engine = db.make_engine(url)
    points = {"1200023305967": "electricity", "3445566778": "gas"}
    with engine.begin() as conn:
        for mpxn, fuel in points.items():
            conn.execute(text(
                "INSERT INTO ingest_supply_points (mpxn, revision, fuel, site_id, site_name, account_id, customer_id, "
                "meter_type, settlement, micro_business, enrolment_status, active) VALUES "
                "(:mpxn, 1, :fuel, 'S', 'S', 'A', 'C', 'smart', 'nhh', false, 'active', true)"), {"mpxn": mpxn, "fuel": fuel})
        for day, mpxn in enumerate([*points, "1200023305967"], start=1):
            conn.execute(text(
                "INSERT INTO ingest_meter_days (mpxn, settlement_date, version, current, content_hash, "
                "source_timestamp, batch_id, row_number, kwh, quality, source_unit, flags, received_at) VALUES "
                "(:mpxn, :day, 1, true, 'h', :at, 'b', 1, :kwh, 'A', 'kWh', '', :at)"),
                {"mpxn": mpxn, "day": date(2024, 5, day), "kwh": b"\0" * 8, "at": datetime(2024, 5, 20, tzinfo=timezone.utc)})
        conn.execute(text("DELETE FROM ingest_meter_days WHERE seq = 3"))  # as an opt-out purge may
    command.upgrade(config, "head")
    with engine.begin() as conn:
        fuels = conn.execute(text("SELECT mpxn, fuel FROM ingest_meter_days ORDER BY seq")).all()
        conn.execute(t.meter_days.insert().values(
            mpxn="3445566778", settlement_date=date(2024, 5, 9), version=1, current=True, fuel="gas", content_hash="h",
            source_timestamp=datetime(2024, 5, 20, tzinfo=timezone.utc), batch_id="b", kwh=b"\0" * 8, quality="A",
            source_unit="kWh", flags="", received_at=datetime(2024, 5, 20, tzinfo=timezone.utc)))
        newest = conn.execute(text("SELECT max(seq) FROM ingest_meter_days")).scalar_one()
    assert [tuple(r) for r in fuels] == list(points.items())
    assert newest == 4  # not 3 again: the relay may have published 3 before it was purged
    command.downgrade(config, "0006")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ingest_meter_days")).scalar_one() == 3
    engine.dispose()
