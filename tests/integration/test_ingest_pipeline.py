"""The ingest service layer against a real database (SQLite, or PostgreSQL when
DATABASE_URL is set): versions, rejections, the outbox and the drop folder."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import orjson
import pytest
from sqlalchemy import select

from services.ingest import pipeline
from services.ingest.adapters import publishing, store
from services.ingest.adapters import tables as t
from services.ingest.domain.model import UnparseableFile
from services.ingest.domain.validation import MeterHistory
from services.ingest.entrypoints.dropfolder import process, watcher
from shared import db, readmodel
from shared.contracts.events import MeterDayRead, SupplyPointChanged
from shared.synthetic.files import wide_csv
from shared.synthetic.meters import MeterSpec, meter_day

pytestmark = pytest.mark.integration

POWER = MeterSpec("1200023305967", "electricity", "office", 100_000)
HH_SETTLED = "1012345678903"
DAY = date(2024, 5, 14)
TODAY = date(2024, 6, 1)


@pytest.fixture
def engine(settings):
    url = settings.database_url_for("ingest")
    db.upgrade("ingest", url)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        readmodel.apply(conn, t.supply_points, [
            SupplyPointChanged(mpxn=POWER.mpxn, revision=1, fuel="electricity", site_id="S1", site_name="HQ",
                               account_id="A1", customer_id="C1", meter_type="smart", profile_class="03"),
            SupplyPointChanged(mpxn=HH_SETTLED, revision=1, fuel="electricity", site_id="S2", site_name="Works",
                               account_id="A1", customer_id="C1", meter_type="amr", profile_class="00", settlement="hh"),
        ])
    yield engine
    engine.dispose()


def csv_for(days: list[date], mpxn: str = POWER.mpxn, scale: float = 1.0) -> bytes:
    rows = []
    for d in days:
        reads = meter_day(POWER, d)
        reads = type(reads)([None if v is None else v * scale for v in reads.values], reads.quality)
        rows.append((mpxn, d, reads))
    return "".join(wide_csv(rows, header_day=days[0] if len(days) == 1 else None)).encode()


def outbox_events(engine) -> list[MeterDayRead]:
    """The reads the relay would publish now (rendered from the stored versions)."""
    with engine.connect() as conn:
        records = publishing.pending_reads(conn, 0, 10_000)
    assert all(topic == "meter.reads.v1" and key.decode() == orjson.loads(payload)["mpxn"]
               for _, topic, key, payload in records)
    return [MeterDayRead.model_validate_json(payload) for _, _, _, payload in records]


def test_accept_resend_revise_and_late_old_revision(engine):
    days = [DAY + timedelta(days=i) for i in range(3)]
    first = pipeline.ingest(engine, csv_for(days), "d1.csv", source="test", today=TODAY,
                            source_timestamp=datetime(2024, 5, 20, tzinfo=timezone.utc))
    assert (first.counts.accepted, first.counts.unchanged, first.counts.rejected) == (3, 0, 0)
    assert "one row per meter-day" in first.detected

    again = pipeline.ingest(engine, csv_for(days), "d1-again.csv", source="test", today=TODAY,
                            source_timestamp=datetime(2024, 5, 20, tzinfo=timezone.utc))
    assert (again.counts.accepted, again.counts.unchanged) == (0, 3)

    revised = pipeline.ingest(engine, csv_for(days[:1], scale=1.1), "revision.csv", source="test", today=TODAY,
                              source_timestamp=datetime(2024, 5, 25, tzinfo=timezone.utc))
    assert (revised.counts.accepted, revised.counts.revised) == (1, 1)

    stale = pipeline.ingest(engine, csv_for(days[:1], scale=0.9), "late-old.csv", source="test", today=TODAY,
                            source_timestamp=datetime(2024, 5, 22, tzinfo=timezone.utc))
    assert (stale.counts.accepted, stale.counts.superseded) == (0, 1)

    # Nothing was published yet: the first day's version 1 was superseded before it
    # was, so only its successor goes out, in the order the versions were stored.
    events = outbox_events(engine)
    assert [(e.settlement_date, e.version) for e in events] == [(d, 1) for d in days[1:]] + [(DAY, 2)]
    with engine.connect() as conn:
        counts = store.counts(conn)
    assert counts["meter_days_current"] == 3 and counts["meter_day_versions"] == 5


def test_rejections_are_recorded_with_reasons(engine):
    text = csv_for([DAY]).decode().replace(POWER.mpxn, "9999999999999", 1)
    rows = csv_for([DAY]).decode().splitlines()
    body = "\n".join([rows[0], rows[1].replace(POWER.mpxn, HH_SETTLED), text.splitlines()[1],
                      rows[1].replace(str(DAY), str(TODAY + timedelta(days=3)))]) + "\n"
    result = pipeline.ingest(engine, body.encode(), "mixed.csv", source="test", today=TODAY)
    with engine.connect() as conn:
        rejected = store.rejections(conn, result.batch_id, 100, 0)
    assert sorted((r["row_number"], r["reason_code"]) for r in rejected) == [
        (2, "not_onboarded"), (3, "unknown_mpxn"), (4, "future_date")]
    assert any("import/export sites not supported yet" in r["reason"] for r in rejected)
    assert (result.counts.rejected, result.counts.accepted) == (3, 0)


def test_unparseable_file_is_refused_and_the_batch_says_why(engine):
    with pytest.raises(UnparseableFile):
        pipeline.ingest(engine, b"\x00\x00\x00", "junk.csv", source="test", today=TODAY)
    with engine.connect() as conn:
        batch = conn.execute(select(t.batches).where(t.batches.c.filename == "junk.csv")).mappings().one()
    assert batch["status"] == "failed" and batch["error"]


def test_an_upload_cut_off_part_way_leaves_a_failed_batch_with_what_it_stored(engine, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK", 2)
    data = csv_for([DAY - timedelta(days=i) for i in range(1000)])  # several times what the pipes hold

    def cut_off():
        for i in range(0, len(data) * 3 // 4, 4096):
            yield data[i:i + 4096]
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        pipeline.ingest(engine, cut_off(), "cut.csv", source="test", today=TODAY)
    with engine.connect() as conn:
        batch = conn.execute(select(t.batches).where(t.batches.c.filename == "cut.csv")).mappings().one()
        stored = store.counts(conn)["meter_days_current"]
    assert batch["status"] == "failed" and "client went away" in batch["error"] and batch["detected"]
    assert 0 < batch["accepted"] < 1000 and batch["accepted"] == stored == len(outbox_events(engine))


def test_drop_folder_ingests_and_moves_files(engine, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "good.csv").write_bytes(csv_for([DAY]))
    (drop / "bad.csv").write_bytes(b"\x00\x01\x02")
    (drop / "copying.csv.part").write_bytes(b"half")
    woken = []

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(watcher(engine, drop, lambda: woken.append(1))(stop))
        for _ in range(100):
            if (drop / "processed").exists() and (drop / "failed").exists():
                break
            await asyncio.sleep(0.1)
        stop.set()
        await task

    asyncio.run(run())
    assert [p.name.endswith("-good.csv") for p in (drop / "processed").iterdir()] == [True]
    failed = sorted(p.name for p in (drop / "failed").iterdir())
    assert failed[0].endswith("-bad.csv") and failed[1].endswith("-bad.csv.error.txt")
    assert (drop / "copying.csv.part").exists()
    assert woken


def test_process_is_one_batch_per_file(engine, tmp_path):
    path = tmp_path / "one.csv"
    path.write_bytes(csv_for([DAY]))
    target = process(engine, path)
    assert not path.exists() and target.endswith("-one.csv")


def test_bulk_writes_read_back_as_core_writes_would(engine):
    """The bulk insert/upsert paths bypass SQLAlchemy's per-row processing: dates,
    aware timestamps, booleans and blobs must still read back unchanged."""
    stamp = datetime(2024, 5, 20, 6, 30, 15, 123456, tzinfo=timezone.utc)
    rows = [(POWER.mpxn, DAY + timedelta(days=i), 1, "electricity", f"h{i}", stamp, "b1", i, bytes([i]) * 8, "A", "kWh",
             "", stamp, i % 2 == 0) for i in range(3)]
    timestamps = [store.VERSION_COLUMNS.index(c) for c in ("source_timestamp", "received_at")]
    with engine.begin() as conn:
        store.insert_versions(conn, rows)
        store.save_histories(conn, {POWER.mpxn: MeterHistory(1, 0.5), HH_SETTLED: MeterHistory(2, 1.5)})
        store.save_histories(conn, {POWER.mpxn: MeterHistory(2, 0.75)})
    with engine.connect() as conn:
        stored = conn.execute(select(*(t.meter_days.c[c] for c in store.VERSION_COLUMNS))
                              .order_by(t.meter_days.c.settlement_date)).all()
        found = store.existing_versions(conn, {(POWER.mpxn, DAY), (POWER.mpxn, DAY + timedelta(days=2)),
                                               (HH_SETTLED, DAY + timedelta(days=1))})
        _, histories = store.supply_points_and_histories(conn, [POWER.mpxn, HH_SETTLED, "0000000000000"])
        seqs = dict(conn.execute(select(t.meter_days.c.settlement_date, t.meter_days.c.seq)).all())
    assert [tuple(v for i, v in enumerate(r[:-1]) if i not in timestamps) + (bool(r[-1]),) for r in stored] == \
        [tuple(v for i, v in enumerate(r) if i not in timestamps) for r in rows]
    assert all(store.aware(r[i]) == stamp for r in stored for i in timestamps)
    assert found == ({(POWER.mpxn, DAY): [(1, "h0", stamp)], (POWER.mpxn, DAY + timedelta(days=2)): [(1, "h2", stamp)]},
                     {(POWER.mpxn, DAY): seqs[DAY], (POWER.mpxn, DAY + timedelta(days=2)): seqs[DAY + timedelta(days=2)]})
    assert histories == {POWER.mpxn: MeterHistory(2, 0.75), HH_SETTLED: MeterHistory(2, 1.5)}


def test_versions_hold_across_chunk_boundaries(engine, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK", 2)
    days = [DAY + timedelta(days=i) for i in range(5)]
    stamp = datetime(2024, 5, 20, tzinfo=timezone.utc)
    stored = []  # the relay is woken after each chunk's transaction, not only at the end of the file
    first = pipeline.ingest(engine, csv_for(days), "d.csv", source="test", today=TODAY, source_timestamp=stamp,
                            on_chunk_stored=lambda: stored.append(len(outbox_events(engine))))
    again = pipeline.ingest(engine, csv_for(days), "d.csv", source="test", today=TODAY, source_timestamp=stamp)
    assert stored == [2, 4, 5]
    assert (first.counts.accepted, again.counts.accepted, again.counts.unchanged) == (5, 0, 5)
    assert len(outbox_events(engine)) == 5
    with engine.connect() as conn:
        assert store.supply_points_and_histories(conn, [POWER.mpxn])[1][POWER.mpxn].days == 5


def test_concurrent_uploads_of_the_same_meter_days_keep_versions_consistent(engine):
    """Each upload decides versions from what is stored: overlapping uploads at the
    same time must not both add version 2 (a primary-key clash) or lose a revision."""
    from concurrent.futures import ThreadPoolExecutor

    days = [DAY + timedelta(days=i) for i in range(5)]
    stamps = [datetime(2024, 5, 20, tzinfo=timezone.utc) + timedelta(hours=i) for i in range(6)]

    def upload(i: int):
        return pipeline.ingest(engine, csv_for(days, scale=1.0 + i / 10), f"r{i}.csv", source="test", today=TODAY,
                               source_timestamp=stamps[i])

    with ThreadPoolExecutor(len(stamps)) as pool:
        results = list(pool.map(upload, range(len(stamps))))
    assert sum(r.counts.accepted + r.counts.superseded for r in results) == len(days) * len(stamps)
    with engine.connect() as conn:
        rows = conn.execute(select(t.meter_days.c.settlement_date, t.meter_days.c.version, t.meter_days.c.current,
                                   t.meter_days.c.source_timestamp)).all()
    for day in days:
        versions = sorted((r.version, r.current, store.aware(r.source_timestamp)) for r in rows if r.settlement_date == day)
        assert [v for v, _, _ in versions] == list(range(1, len(stamps) + 1))
        assert [ts for _, current, ts in versions if current] == [stamps[-1]]  # the newest source time is current


async def test_the_relay_publishes_each_current_version_once_and_again_only_after_a_crash(engine, settings):
    """The relay publishes stored versions after the last one it recorded as
    published: a revision publishes only itself, and a relay that dies between
    publishing and recording it publishes the same versions again (at least once)."""
    from shared.bus import EventProducer, consume_batches, ensure_topics
    from shared.contracts import READS

    await ensure_topics(settings, [READS])

    async def relay_until_published() -> None:
        producer = EventProducer(settings, "test")
        await producer.start()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(relay.run(stop)) for relay in publishing.relays(engine, producer)]
        try:
            while await asyncio.to_thread(publishing.pending_count, engine):
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
            await producer.stop()

    days = [DAY + timedelta(days=i) for i in range(3)]
    first = pipeline.ingest(engine, csv_for(days), "d.csv", source="test", today=TODAY,
                            source_timestamp=datetime(2024, 5, 20, tzinfo=timezone.utc))
    await relay_until_published()
    revised = pipeline.ingest(engine, csv_for(days[:1], scale=1.1), "r.csv", source="test", today=TODAY,
                              source_timestamp=datetime(2024, 5, 25, tzinfo=timezone.utc))
    assert publishing.pending_count(engine) == 1
    with engine.connect() as conn:
        before = publishing.published_seq(conn)
    await relay_until_published()
    with engine.begin() as conn:  # the relay died after publishing, before recording it
        conn.execute(t.reads_published.update().values(seq=before))
    assert publishing.pending_count(engine) == 1
    await relay_until_published()

    batches, seen, stop = {first.batch_id, revised.batch_id}, [], asyncio.Event()

    async def handle(batch) -> None:
        seen.extend((e.event.settlement_date, e.event.version) for e in batch if e.event.batch_id in batches)
        if len(seen) >= 5:
            stop.set()

    consumer = asyncio.create_task(consume_batches(settings, "test", f"g-{first.batch_id}", [READS], handle, stop))
    await asyncio.wait_for(stop.wait(), 60)
    await consumer
    assert seen == [(d, 1) for d in days] + [(DAY, 2), (DAY, 2)]


def test_opting_out_purges_the_stored_versions_and_refuses_new_ones(engine):
    days = [DAY + timedelta(days=i) for i in range(3)]
    pipeline.ingest(engine, csv_for(days), "d.csv", source="test", today=TODAY)
    pipeline.ingest(engine, csv_for(days[:1], scale=1.1), "r.csv", source="test", today=TODAY)

    def supply_point(revision: int, status: str) -> SupplyPointChanged:
        return SupplyPointChanged(mpxn=POWER.mpxn, revision=revision, fuel="electricity", site_id="S1", site_name="HQ",
                                  account_id="A1", customer_id="C1", meter_type="smart", profile_class="03",
                                  micro_business=True, enrolment_status=status)

    with engine.begin() as conn:  # a revision no newer than the one held changes nothing
        assert store.apply_supply_points(conn, [supply_point(1, "opted_out")]) == 0
        assert store.counts(conn)["meter_day_versions"] == 4
        assert store.apply_supply_points(conn, [supply_point(2, "opted_out")]) == 4
    with engine.connect() as conn:
        assert store.counts(conn)["meter_day_versions"] == 0
        assert store.supply_points_and_histories(conn, [POWER.mpxn])[1] == {}
    assert outbox_events(engine) == []
    refused = pipeline.ingest(engine, csv_for(days), "d.csv", source="test", today=TODAY)
    assert (refused.counts.accepted, refused.counts.rejected) == (0, 3)


def test_batches_and_their_counts_reach_the_metrics(engine):
    from prometheus_client import REGISTRY

    def samples() -> tuple[float, ...]:
        return tuple(REGISTRY.get_sample_value(name, labels) or 0.0 for name, labels in (
            ("meterstream_ingest_batches_total", {"source": "metrics-test", "status": "done"}),
            ("meterstream_ingest_batches_total", {"source": "metrics-test", "status": "failed"}),
            ("meterstream_ingest_batch_seconds_count", {"source": "metrics-test"}),
            ("meterstream_ingest_meter_days_total", {"outcome": "accepted"}),
            ("meterstream_ingest_meter_days_total", {"outcome": "unchanged"})))

    before = samples()
    for _ in range(2):  # the second time, the same meter-day is unchanged
        pipeline.ingest(engine, csv_for([DAY]), "m.csv", source="metrics-test", today=TODAY)
    with pytest.raises(UnparseableFile):
        pipeline.ingest(engine, b"not,a,meter,file\n", "x.csv", source="metrics-test", today=TODAY)
    assert tuple(b - a for a, b in zip(before, samples())) == (2, 1, 3, 1, 1)
