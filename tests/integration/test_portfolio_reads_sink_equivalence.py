"""The reads sink (store_reads) against an oracle of its contract, for shuffled
batches mixing versions, redeliveries, several days of one month (and a month
end, and the clock change) in one batch, unknown supply points and an opted-out
account: meter_days holds the highest version of each meter-day, and each month
array is exactly the empty month patched with those versions (what patching
day by day in any order produced before), redeliveries change nothing, not
even the stamps. Real database (SQLite, or PostgreSQL with DATABASE_URL)."""
from __future__ import annotations

import hashlib
import random
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.portfolio.adapters import repository as repo
from services.portfolio.adapters import tables as t
from services.portfolio.domain.consumption import empty_month, month_of, patch_month
from shared import db
from shared.contracts.events import MeterDayRead
from shared.hh import decode_values, encode_values, periods_in_day

pytestmark = pytest.mark.integration

DAYS = [date(2024, 10, 26), date(2024, 10, 27), date(2024, 10, 31), date(2024, 11, 1), date(2024, 11, 2)]
KNOWN = [f"19000000000{i:02d}" for i in range(12)]
UNKNOWN = [f"29000000000{i:02d}" for i in range(6)]  # not in the directory: stored all the same
OPTED_OUT = ["3900000000001", "3900000000002"]


def _event(mpxn: str, day: date, version: int) -> MeterDayRead:
    """Deterministic per (mpxn, day, version), as a redelivery is the same event."""
    rng = random.Random(f"{mpxn}{day}{version}")
    n = periods_in_day(day)
    kwh = [None if rng.random() < 0.1 else round(rng.uniform(0, 3), 3) for _ in range(n)]
    quality = "".join("-" if v is None else rng.choice("AAE") for v in kwh)
    return MeterDayRead(
        event_id=f"{mpxn}:{day}:{version}", mpxn=mpxn, fuel="electricity", settlement_date=day, version=version,
        content_hash=hashlib.sha256(f"{mpxn}{day}{version}".encode()).hexdigest(), kwh=kwh, quality=quality,
        flags=["estimated"] if "E" in quality else [], batch_id="b",
        received_at=datetime(2024, 11, 3, tzinfo=timezone.utc) + timedelta(minutes=version),
    )


def _directory(conn) -> None:
    conn.execute(t.customers.insert(), [{"id": "C", "name": "C", "micro_business": False}])
    conn.execute(t.accounts.insert(), [{"id": "IN", "customer_id": "C", "name": "in", "opted_out_on": None},
                                       {"id": "OUT", "customer_id": "C", "name": "out", "opted_out_on": date(2024, 9, 1)}])
    conn.execute(t.sites.insert(), [{"id": "S-IN", "account_id": "IN", "name": "in"},
                                    {"id": "S-OUT", "account_id": "OUT", "name": "out"}])
    conn.execute(t.supply_points.insert(), [
        {"mpxn": m, "site_id": "S-OUT" if m in OPTED_OUT else "S-IN", "fuel": "electricity", "meter_type": "smart",
         "settlement": "NHH"} for m in KNOWN + OPTED_OUT])


def _batches(seed: int) -> list[list[MeterDayRead]]:
    rng = random.Random(seed)
    events = [_event(m, d, v) for m in KNOWN + UNKNOWN + OPTED_OUT for d in rng.sample(DAYS, rng.randint(1, len(DAYS)))
              for v in rng.sample(range(1, 5), rng.randint(1, 3))]
    events += rng.sample(events, len(events) // 4)  # redeliveries
    rng.shuffle(events)
    cuts = sorted(rng.sample(range(1, len(events)), 5))
    return [events[i:j] for i, j in zip([0, *cuts], [*cuts, len(events)])]


def _utc(instant: datetime) -> datetime:
    """Naive UTC (SQLite gives naive UTC back, PostgreSQL aware instants)."""
    return instant.astimezone(timezone.utc).replace(tzinfo=None) if instant.tzinfo else instant


def _contents(conn) -> tuple[dict, dict, dict]:
    md, mm = t.meter_days.c, t.meter_months.c
    days = {(r.mpxn, r.settlement_date): (r.version, r.content_hash, bytes(r.kwh), r.quality, r.flags,
                                          _utc(r.received_at))
            for r in conn.execute(select(md.mpxn, md.settlement_date, md.version, md.content_hash, md.kwh, md.quality,
                                         md.flags, md.received_at))}
    months = {(r.mpxn, r.month): (bytes(r.kwh), r.quality) for r in conn.execute(select(mm.mpxn, mm.month, mm.kwh, mm.quality))}
    stamps = {(r.mpxn, r.month): r.stamp for r in conn.execute(select(mm.mpxn, mm.month, mm.stamp))}
    return days, months, stamps


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_store_reads_keeps_the_highest_versions_and_their_month_arrays(server_database_url, tmp_path, seed):
    url = server_database_url or f"sqlite:///{tmp_path / 'portfolio.db'}"
    db.upgrade("portfolio", url)
    engine = db.make_engine(url)
    batches = _batches(seed)
    assert any(len({r.settlement_date for r in batch if r.mpxn == m and month_of(r.settlement_date) == month}) > 1
               for batch in batches for m in KNOWN for month in {month_of(d) for d in DAYS})  # the case to get right
    try:
        with engine.begin() as conn:
            _directory(conn)
        for batch in batches:
            with engine.begin() as conn:
                offered = repo.store_reads(conn, batch)
            assert offered == len({(r.mpxn, r.settlement_date) for r in batch if r.mpxn not in OPTED_OUT})
        with engine.connect() as conn:
            days, months, stamps = _contents(conn)

        winners: dict[tuple[str, date], MeterDayRead] = {}
        for r in (r for batch in batches for r in batch if r.mpxn not in OPTED_OUT):
            if (r.mpxn, r.settlement_date) not in winners or winners[r.mpxn, r.settlement_date].version < r.version:
                winners[r.mpxn, r.settlement_date] = r
        assert days == {key: (r.version, r.content_hash, encode_values(r.kwh), r.quality, ",".join(r.flags),
                              _utc(r.received_at)) for key, r in winners.items()}
        by_month: dict[tuple[str, date], list] = {}
        for (mpxn, day), r in winners.items():
            by_month.setdefault((mpxn, month_of(day)), []).append((day, decode_values(encode_values(r.kwh)), r.quality))
        expected = {}
        for (mpxn, month), month_days in by_month.items():
            values, quality = patch_month(*empty_month(month), month, month_days)
            expected[mpxn, month] = (values.astype("<f8").tobytes(), quality)
        assert months == expected

        # Redelivering everything changes nothing, not even the stamps readers cache by.
        for batch in batches:
            with engine.begin() as conn:
                repo.store_reads(conn, batch)
        with engine.connect() as conn:
            assert _contents(conn) == (days, months, stamps)
    finally:
        engine.dispose()
