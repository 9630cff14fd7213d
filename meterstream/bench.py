"""``meterstream bench``: the platform measured side by side with its baselines
in one run, printed as ratios (these machines are noisy: compare within a run,
never across runs).

Each row: scenario, what was measured, the baseline it is compared with, the
ratio, the target and whether it was met. Services add their own scenarios in
``services/<name>/bench.py`` (``run(scale) -> list[dict]``).
"""
from __future__ import annotations

import asyncio
import gc
import importlib
import multiprocessing
import resource
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from meterstream.broker import free_port, start_broker
from shared.config import Settings
from shared.db import temporary_database

Row = dict


def row(scenario: str, measured: str, baseline: str, ratio: float, target: str, ok: bool) -> Row:
    return {"scenario": scenario, "measured": measured, "baseline": baseline, "ratio": round(ratio, 3), "target": target, "ok": ok}


ROUNDS = 3  # file-to-bus rounds, each followed by a raw produce run: the best of each side is compared


def _fleet_events(n_meters: int, day: date):
    """A D+1 file's worth of meter-days: n meters, one day, as a wide CSV and as events."""
    from shared.synthetic.files import wide_csv_for_fleet
    from shared.synthetic.meters import random_fleet

    fleet = random_fleet(n_meters, seed=7)
    return fleet, "".join(wide_csv_for_fleet(fleet, day)).encode()


async def _raw_produce(bootstrap: str, topic: str, payloads: list[tuple[bytes, bytes]]) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await producer.send(topic, value=v, key=k) for k, v in payloads]
        await asyncio.gather(*futures)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def _raw_consume(bootstrap: str, topic: str, n: int) -> float:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"bench-{topic}", auto_offset_reset="earliest",
                                enable_auto_commit=False, rebalance_timeout_ms=5000, session_timeout_ms=10000,
                                heartbeat_interval_ms=1000)
    await consumer.start()
    try:
        seen, started = 0, None
        while seen < n:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            if batch and started is None:
                started = time.perf_counter()  # exclude the group join from the rate
            for messages in batch.values():
                for m in messages:
                    orjson.loads(m.value)
                seen += len(messages)
        return time.perf_counter() - (started or time.perf_counter())
    finally:
        await consumer.stop()


class _RssSampler:
    """Peak growth of the resident sets while it runs (MiB), sampled every 20 ms:
    ru_maxrss cannot show it once fixtures have already set a higher mark."""

    def __init__(self) -> None:
        self._start = self._peak = _rss_mib()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self._peak = max(self._peak, _rss_mib())

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return max(self._peak, _rss_mib()) - self._start


def _rss_mib() -> float:
    """This process's resident set and its children's (the parse process)."""
    if not Path("/proc/self/statm").exists():  # not Linux: the high-water mark is the best available
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pages = 0
    for pid in ["self", *(p.pid for p in multiprocessing.active_children())]:
        try:
            pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except OSError:
            pass  # a child that just left
    return pages * resource.getpagesize() / 2**20


def pipeline_rows(settings: Settings, scale: float) -> list[Row]:
    """Raw aiokafka produce/consume of meter-day events (the ceiling) next to
    ingest (parse, validate, store, outbox) and the pipeline end to end
    (ingest -> outbox relay -> bus -> portfolio store)."""
    from services.ingest import parse_process, pipeline
    from services.ingest.adapters import publishing
    from services.ingest.adapters import tables as ingest_tables
    from services.portfolio.adapters import repository as portfolio_repo
    from shared import db, readmodel
    from shared.bus import EventProducer, consume_batches, ensure_topics
    from shared.contracts import READS
    from shared.contracts.events import SupplyPointChanged
    from shared.outbox import ProcessRelay

    n = max(1000, int(100_000 * scale))
    day = date.today() - timedelta(days=2)
    fleet, csv_bytes = _fleet_events(n, day)
    # New meter-days for each file-to-bus round
    next_files = [_fleet_events(n, day - timedelta(days=r))[1] for r in range(1, ROUNDS + 1)]
    rows: list[Row] = []

    ingest_engine = db.make_engine(settings.database_url_for("ingest"))
    portfolio_engine = db.make_engine(settings.database_url_for("portfolio"))
    db.upgrade("ingest", settings.database_url_for("ingest"))
    db.upgrade("portfolio", settings.database_url_for("portfolio"))
    with ingest_engine.begin() as conn:
        readmodel.apply(conn, ingest_tables.supply_points, [
            SupplyPointChanged(mpxn=m.mpxn, revision=1, fuel=m.fuel, site_id=m.mpxn, site_name=m.mpxn, account_id="A",
                               customer_id="C", meter_type="smart", profile_class="03" if m.fuel == "electricity" else None)
            for m in fleet])

    def ingest_file(data: bytes, filename: str, wake=None):
        """pipeline.ingest as the ingest process runs it: the file streamed in 1 MiB
        pieces, its GC settings, the fixtures frozen out of the collector's passes,
        and the relay woken after each stored chunk."""
        gc.freeze()
        thresholds = gc.get_threshold()
        gc.set_threshold(*parse_process.GC_THRESHOLDS)
        try:
            return pipeline.ingest(ingest_engine, (data[i:i + (1 << 20)] for i in range(0, len(data), 1 << 20)),
                                   filename, source="bench", today=date.today(), on_chunk_stored=wake)
        finally:
            gc.set_threshold(*thresholds)
            gc.unfreeze()

    parse_process.start()  # as the ingest service does when it starts
    rss = _RssSampler()
    started = time.perf_counter()
    result = ingest_file(csv_bytes, "bench.csv")
    ingest_seconds = time.perf_counter() - started
    accepted = result.counts.accepted
    rss_growth = rss.stop()

    async def measure() -> tuple[list[float], float, float, list[tuple[float, float, int]]]:
        await ensure_topics(settings)
        from dataclasses import replace

        with ingest_engine.connect() as conn:  # the events the relay will publish, as it renders them
            payloads = [(key, payload) for _, _, key, payload in publishing.pending_reads(conn, 0, accepted)]

        async def raw_produce(topic: str) -> float:
            await ensure_topics(settings, [replace(READS, name=topic)])
            return await _raw_produce(settings.kafka_bootstrap_servers, topic, payloads)

        raw_topic = f"bench.raw.{time.time_ns()}"
        produce = [await raw_produce(raw_topic)]
        consume = await _raw_consume(settings.kafka_bootstrap_servers, raw_topic, len(payloads))
        e2e = await relay_to_portfolio(raw_topic)
        rounds = []
        for r, data in enumerate(next_files):  # interleaved, so drift and noise fall on both alike
            rounds.append(await file_to_bus(data, f"bench-next-{r}.csv"))
            produce.append(await raw_produce(f"{raw_topic}.{r}"))
        return produce, consume, e2e, rounds

    async def relay_to_portfolio(raw_topic: str) -> float:
        """The first file through the in-process relays to the portfolio store."""
        producer = EventProducer(settings, "bench")
        await producer.start()
        relays = publishing.relays(ingest_engine, producer)
        stop = asyncio.Event()
        stored = 0

        def store(batch) -> None:
            with portfolio_engine.begin() as conn:
                portfolio_repo.store_reads(conn, [e.event for e in batch])

        async def handle(batch) -> None:
            nonlocal stored
            await asyncio.to_thread(store, batch)
            stored += len(batch)
            if stored >= accepted:
                stop.set()

        sink = asyncio.create_task(consume_batches(settings, "bench", f"bench-sink-{raw_topic}", [READS], handle, stop))
        await asyncio.sleep(6)  # let the sink join its group before timing starts
        t0 = time.perf_counter()
        relay_tasks = [asyncio.create_task(relay.run(stop)) for relay in relays]
        await asyncio.wait_for(stop.wait(), 600)
        e2e = time.perf_counter() - t0
        await asyncio.gather(sink, *relay_tasks)
        await producer.stop()
        return e2e

    async def file_to_bus(data: bytes, filename: str) -> tuple[float, float, int]:
        """Ingest a further file while the service's relay process publishes it: the
        time until the file is stored and until the broker has acknowledged every
        event of it."""
        process_relay = ProcessRelay(settings, "ingest", f"{publishing.__name__}:relays")
        stop = asyncio.Event()
        relay_task = asyncio.create_task(process_relay.run(stop))
        await asyncio.sleep(4)  # the child process starts and connects before timing starts
        t0 = time.perf_counter()
        second = await asyncio.to_thread(ingest_file, data, filename, process_relay.wake)
        stored = time.perf_counter() - t0
        while process_relay.published < second.counts.accepted:
            await asyncio.sleep(0.01)
        seconds = time.perf_counter() - t0
        stop.set()
        await relay_task
        return stored, seconds, second.counts.accepted

    produce, consume, e2e, rounds = asyncio.run(measure())
    n_events = accepted
    # Each ingest is compared with the raw produce run(s) measured next to it: the
    # first file with the run right after it, the rounds with the runs between them
    # (the broker holds more with every run, and the first run is the fastest).
    raw_rate = n_events / produce[0]
    rounds_raw_rate = n_events / min(produce[1:])
    rows.append(row("bus ceiling: aiokafka produce (acks=all)",
                    f"{raw_rate:,.0f} meter-days/s after the first file; {rounds_raw_rate:,.0f}/s best of the runs "
                    f"after each file-to-bus round ({', '.join(f'{n_events / p:,.0f}' for p in produce[1:])})",
                    "-", 1.0, "reference", True))
    rows.append(row("bus ceiling: aiokafka consume + orjson", f"{n_events / consume:,.0f} meter-days/s", "-", 1.0,
                    "reference", True))
    ingest_rate = accepted / ingest_seconds
    rows.append(row(f"ingest: parse+validate+store+outbox, D+1 wide CSV of {n:,} meters",
                    f"{ingest_rate:,.0f} meter-days/s, peak RSS +{rss_growth:,.0f} MiB "
                    f"({len(csv_bytes) / 2**20:,.0f} MiB file)",
                    f"{raw_rate:,.0f}/s raw produce", ingest_rate / raw_rate, ">= 0.5 x raw produce",
                    ingest_rate / raw_rate >= 0.5))
    to_store, to_bus, to_bus_events = min(rounds, key=lambda r: r[1] / r[2])
    to_bus_rate = to_bus_events / to_bus
    rows.append(row(f"ingest -> on the bus (issue #4's parse, validate and publish): a further D+1 file, relay "
                    f"process publishing meanwhile (best of {len(rounds)} rounds)",
                    f"{to_bus_rate:,.0f} meter-days/s (file stored after {to_store:.1f} s, on the bus after "
                    f"{to_bus:.1f} s; every round: {', '.join(f'{n / b:,.0f}' for _, b, n in rounds)}/s)",
                    f"{rounds_raw_rate:,.0f}/s raw produce (best of the runs between rounds)",
                    to_bus_rate / rounds_raw_rate, ">= 0.5 x raw produce", to_bus_rate / rounds_raw_rate >= 0.5))
    e2e_rate = accepted / e2e
    rows.append(row("pipeline: outbox relay -> bus -> portfolio store", f"{e2e_rate:,.0f} meter-days/s",
                    f"{raw_rate:,.0f}/s raw produce", e2e_rate / raw_rate, "reported (ceiling = 1.0)", True))
    ingest_engine.dispose()
    portfolio_engine.dispose()
    return rows


SERVICE_BENCHES: tuple[str, ...] = ("portfolio", "alerts", "aq", "gateway")


def run_all(scale: float, only: str | None, log: Callable[[str], None]) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="meterstream-bench-") as tmp:
        settings = Settings()
        broker = None
        if "kafka_bootstrap_servers" not in settings.model_fields_set:
            port = free_port()
            broker = start_broker(port, Path(tmp) / "broker.log")
            settings = settings.model_copy(update={"kafka_bootstrap_servers": f"127.0.0.1:{port}"})
        database = temporary_database(settings.database_url)
        settings = settings.model_copy(update={"run_dir": Path(tmp), "database_url": database.__enter__()})
        try:
            if only in (None, "pipeline"):
                log("pipeline: raw bus vs ingest vs end to end ...")
                rows += pipeline_rows(settings, scale)
            for name in SERVICE_BENCHES:
                if only in (None, name):
                    log(f"{name} ...")
                    rows += importlib.import_module(f"services.{name}.bench").run(scale)
        finally:
            database.__exit__(None, None, None)
            if broker:
                broker.terminate()
                broker.wait(10)
    return rows

