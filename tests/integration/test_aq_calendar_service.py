"""The aq service layer on a real database (SQLite, or PostgreSQL with DATABASE_URL):
a full gas year of the persisted calendar, corrections, idempotent consumers, restarts."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from services.aq import application as app_
from services.aq.adapters import repository as repo
from services.aq.adapters import tables as t
from services.aq.domain.dates import add_months
from shared import db
from shared.contracts.events import MeterDayRead, RegisterRead
from shared.hh import periods_in_day

pytestmark = pytest.mark.integration

START = date(2024, 9, 30)
END = date(2025, 9, 30)
NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def aq(settings):
    settings = settings.model_copy(update={"aq_business_date": START})
    url = settings.database_url_for("aq")
    db.upgrade("aq", url)
    engine = db.make_engine(url)
    yield settings, engine, app_.ReferenceProvider(engine)
    engine.dispose()


def register_reads(mprn: str, first: date, months: int, kwh_per_day: float) -> list[RegisterRead]:
    reads, index = [], 1000.0
    for i in range(months + 1):
        day = add_months(first, i)
        if i:
            index += kwh_per_day * (day - add_months(first, i - 1)).days
        reads.append(RegisterRead(event_id=f"{mprn}:{day}", mpxn=mprn, read_date=day, register_value=index,
                                  unit="kWh", read_type="actual", batch_id="b", received_at=NOW))
    return reads


def hh_days(mprn: str, first: date, days: int, kwh_per_day: float, skip: date | None = None) -> list[MeterDayRead]:
    out = []
    for i in range(days):
        day = first + timedelta(days=i)
        n = periods_in_day(day)
        values = [kwh_per_day / n] * n
        if day == skip:
            values[3] = None
        out.append(MeterDayRead(event_id=f"{mprn}:{day}:1", mpxn=mprn, fuel="gas", settlement_date=day, version=1,
                                content_hash="h", kwh=values, quality="A" * n, batch_id="b", received_at=NOW))
    return out


def kinds(engine, mprn: str) -> list[str]:
    with engine.connect() as conn:
        return [r["kind"] for r in repo.history(conn, mprn)]


def test_a_full_gas_year_through_the_service_layer(aq):
    settings, engine, provider = aq
    reference = provider.get(START)
    with engine.begin() as conn:
        today = app_.business_date(conn, settings)
        assert today == START
        for mprn, attrs in {
            "1000001": {"ldz": "EA", "aq_kwh": 100_000, "registered_on": date(2019, 4, 1), "confirmation": "CO"},
            "1000002": {"ldz": "NW", "aq_kwh": 400_000, "registered_on": date(2019, 4, 1), "confirmation": "RQ",
                        "meter_class": 4, "outstanding_offer": True},
            "1000003": {"ldz": "SC", "aq_kwh": 50_000, "registered_on": date(2019, 4, 1), "isolated": True},
            "1000004": {"ldz": "WM", "aq_kwh": 150_000, "registered_on": date(2019, 4, 1), "confirmation": "LI"},
        }.items():
            app_.put_point(conn, mprn, attrs, today, reference)
        reads = (register_reads("1000001", date(2023, 9, 1), 24, 280.0)
                 + register_reads("1000002", date(2023, 9, 1), 24, 1100.0)
                 + register_reads("1000003", date(2023, 9, 1), 24, 140.0))
        repo.store_register_reads(conn, reads)
        repo.store_register_reads(conn, reads)  # a redelivery changes nothing
        repo.store_gas_days(conn, hh_days("1000004", date(2023, 11, 1), 700, 410.0, skip=date(2024, 2, 20)))

    # Month by month, the way the clock moves in production (day by day inside catch_up).
    day = START
    while day < END:
        day = min(add_months(day, 1), END)
        with engine.begin() as conn:
            app_.advance_clock(conn, settings, day)
        assert app_.catch_up(engine, day, provider.get(day)) == 4
        if day.month == 1:  # a correction in the snapshot window replaces the 1 December snapshot
            with engine.begin() as conn:
                outcome = app_.submit_correction(conn, "1000001", "change_in_consumer_plant", 120_000, "ops@x", day,
                                                 provider.get(day))
                rejected = app_.submit_correction(conn, "1000001", "whim", 1.0, "ops@x", day, provider.get(day))
            assert outcome.accepted and outcome.effective_from == date(2025, 2, 1)
            assert not rejected.accepted and rejected.reason_code == "unknown_reason"

    assert app_.catch_up(engine, END, provider.get(END)) == 0  # every day runs once
    with engine.connect() as conn:
        a = repo.load_point(conn, "1000001")
        b_history = repo.history(conn, "1000002")
        nrl_march = repo.nrl_rows(conn, date(2025, 3, 1), date(2025, 4, 1))
        outbox = conn.execute(select(func.count()).select_from(t.outbox)).scalar_one()
        unique = conn.execute(select(func.count(func.distinct(t.history.c.event_id)))).scalar_one()
        total = conn.execute(select(func.count()).select_from(t.history)).scalar_one()
    assert a.processed_through == END
    assert unique == total and outbox > total  # every fact recorded once; each published

    a_kinds = kinds(engine, "1000001")
    assert a_kinds.count("snapshot") == 1 and "correction_accepted" in a_kinds and "correction_rejected" in a_kinds
    # The accepted correction created a backstop date: later reads pairs start before it and fail.
    assert a.state.backstop_date == date(2025, 1, 30) and a.state.formula_year_aq_kwh == 120_000
    assert "read_before_backstop" in {r["reason_code"] for r in repo_history(engine, "1000001") if r["kind"] == "failed"}

    # RQ point: notifications go through TRF, and its outstanding offer gets S91 addenda.
    b_kinds = [r["kind"] for r in b_history]
    assert "TRF" in b_kinds and "T04" not in b_kinds
    calculated = [r for r in b_history if r["kind"] == "calculated"]
    assert len(calculated) == 12 and all(r["effective_from"].day == 1 for r in calculated)
    assert calculated[0]["aq_kwh"] == pytest.approx(1100 * 365, rel=0.15)
    assert {r["business_date"].day for r in calculated} == {10}

    # Isolated: fails every month with its reason, keeping the previous AQ.
    c = repo_history(engine, "1000003")
    assert {r["reason_code"] for r in c if r["kind"] == "failed"} == {"isolated"}

    # HH point: summed daily energy as an index, restarting after the February gap.
    d = repo_history(engine, "1000004")
    d_calc = [r for r in d if r["kind"] == "calculated"]
    assert d_calc and d_calc[-1]["aq_kwh"] == pytest.approx(410 * 365, rel=0.15)
    assert d_calc[0]["read_start"] > date(2024, 2, 20)  # never across the gap
    # Until 9 months have built up after the gap, it is reported as the reason, the AQ kept.
    d_failed = [r for r in d if r["kind"] == "failed"]
    assert d_failed and {r["reason_code"] for r in d_failed} == {"consumption_gap"}
    assert all(r["aq_kwh"] == 150_000 for r in d_failed) and d_failed[-1]["business_date"] < d_calc[0]["business_date"]

    # The March file: T04 for the LI point's new AQ, TRF for the RQ one; nothing for the point whose
    # calculation failed (its formula-year AQ was already corrected in February).
    assert {(r["kind"], r["mprn"]) for r in nrl_march} == {("T04", "1000004"), ("TRF", "1000002")}
    assert all(r["business_date"] == date(2025, 3, 27) for r in nrl_march)


def repo_history(engine, mprn: str) -> list[dict]:
    with engine.connect() as conn:
        return repo.history(conn, mprn)


def test_restart_resumes_without_repeating_a_day(aq):
    settings, engine, provider = aq
    with engine.begin() as conn:
        app_.put_point(conn, "2000001", {"ldz": "EA", "aq_kwh": 90_000, "registered_on": date(2019, 4, 1)}, START,
                       provider.get(START))
        repo.store_register_reads(conn, register_reads("2000001", date(2023, 9, 1), 14, 250.0))
    app_.catch_up(engine, date(2024, 11, 5), provider.get(START))
    first = kinds(engine, "2000001")
    # A "restart": a new provider and the same database; stepping again to the same day does nothing.
    provider2 = app_.ReferenceProvider(engine)
    assert app_.catch_up(engine, date(2024, 11, 5), provider2.get(START)) == 0
    app_.catch_up(engine, date(2024, 12, 5), provider2.get(START))
    after = kinds(engine, "2000001")
    assert after[: len(first)] == first and after.count("calculated") == 2 and after.count("snapshot") == 1


def test_a_read_stored_while_the_calendar_steps_is_offered_at_the_next_step(aq):
    """The calendar marks offered only the reads it offered: one that a consumer
    commits meanwhile (or changes) waits for the next step instead of being lost."""
    _, engine, _ = aq
    first, later = register_reads("7700000001", date(2023, 11, 1), 1, 300.0)
    with engine.begin() as conn:
        repo.store_register_reads(conn, [first])
    with engine.begin() as conn:
        offered = repo.unoffered_reads(conn, "7700000001", START)
        with engine.begin() as other:  # a consumer's transaction, committed while the step runs
            repo.store_register_reads(other, [later, first.model_copy(update={"register_value": 999.0})])
        repo.mark_offered(conn, "7700000001", offered)
    with engine.connect() as conn:
        assert [(r.read_date, r.index) for r in repo.unoffered_reads(conn, "7700000001", START)] == \
            [(first.read_date, 999.0), (later.read_date, later.register_value)]
