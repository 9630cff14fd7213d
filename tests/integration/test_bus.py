"""The bus layer against the real embedded broker: acks=all publishing, the
at-least-once batch consumer, and the transactional outbox relay."""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import date, datetime, timezone

import orjson
import pytest
from sqlalchemy import MetaData

from shared import db
from shared.bus import EventProducer, consume_batches, encode, ensure_topics
from shared.contracts import REJECTED
from shared.contracts.events import RejectedRow
from shared.outbox import OutboxRelay, ProcessRelay, enqueue, outbox_table, pending_count

pytestmark = pytest.mark.integration


def rejected(batch: str, n: int) -> RejectedRow:
    return RejectedRow(batch_id=batch, row_number=n, mpxn="1200023305967", settlement_date=date(2024, 1, 1),
                       reason_code="negative_value", reason="negative", rejected_at=datetime.now(timezone.utc))


def private_topic():
    """A topic of its own per test, so tests never see each other's events."""
    return replace(REJECTED, name=f"test.rejected.{uuid.uuid4().hex[:8]}.v1")


async def collect(settings, topic, group, want: int, handler=None, timeout=40.0) -> list:
    seen: list = []
    stop = asyncio.Event()

    async def handle(batch):
        if handler:
            await handler(batch)
        seen.extend(env.event for env in batch)
        if len(seen) >= want:
            stop.set()

    task = asyncio.create_task(consume_batches(settings, "test", group, [topic], handle, stop))
    try:
        await asyncio.wait_for(stop.wait(), timeout)
    finally:
        stop.set()
        await task
    return seen


async def test_produce_and_consume_in_key_order(settings):
    topic = private_topic()
    await ensure_topics(settings, [topic])
    batch = uuid.uuid4().hex
    producer = EventProducer(settings, "test")
    await producer.start()
    try:
        await producer.send_many(topic, [rejected(batch, n) for n in range(200)])
    finally:
        await producer.stop()
    seen = await collect(settings, topic, f"g-{batch}", 200)
    # One key (batch_id) means one partition: order is kept.
    assert [e.row_number for e in seen] == list(range(200))


async def test_failed_handler_is_retried_and_nothing_is_lost(settings):
    topic = private_topic()
    await ensure_topics(settings, [topic])
    batch = uuid.uuid4().hex
    producer = EventProducer(settings, "test")
    await producer.start()
    await producer.send_many(topic, [rejected(batch, n) for n in range(50)])
    await producer.stop()
    failures = {"left": 2}

    async def flaky(_batch):
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("database briefly unavailable")

    seen = await collect(settings, topic, f"g-{batch}", 50, handler=flaky)
    assert sorted(e.row_number for e in seen)[:50] == list(range(50))
    assert failures["left"] == 0


async def test_uncommitted_batch_is_redelivered_to_the_next_consumer(settings):
    """A consumer that stops before committing loses nothing: the group's next
    member gets the same events again (at-least-once)."""
    topic = private_topic()
    await ensure_topics(settings, [topic])
    batch = uuid.uuid4().hex
    producer = EventProducer(settings, "test")
    await producer.start()
    await producer.send_many(topic, [rejected(batch, n) for n in range(20)])
    await producer.stop()
    stop = asyncio.Event()

    async def crash_before_commit(_batch):
        stop.set()
        raise RuntimeError("killed mid-batch")

    await asyncio.wait_for(
        consume_batches(settings, "test", f"g-{batch}", [topic], crash_before_commit, stop), 40)
    seen = await collect(settings, topic, f"g-{batch}", 20)
    assert sorted(e.row_number for e in seen) == list(range(20))


async def outbox_on_private_topic(settings, service: str):
    """A fresh topic, and an outbox table of that service name in a database of its own."""
    topic = private_topic()
    await ensure_topics(settings, [topic])
    metadata = MetaData()
    table = outbox_table(metadata, service)
    engine = db.make_engine(settings.database_url_for("bus-test"))
    metadata.create_all(engine)
    return topic, metadata, table, engine


async def test_outbox_relay_publishes_in_order_and_empties(settings):
    topic, metadata, table, engine = await outbox_on_private_topic(settings, "test")
    batch = uuid.uuid4().hex
    with engine.begin() as conn:
        enqueue(conn, table, topic, [rejected(batch, n) for n in range(300)])
    assert pending_count(engine, table) == 300

    producer = EventProducer(settings, "test")
    await producer.start()
    relay = OutboxRelay(engine, table, producer, batch_size=64)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        seen = await collect(settings, topic, f"g-{batch}", 300)
    finally:
        stop.set()
        relay.wake()
        await task
        await producer.stop()
    assert [e.row_number for e in seen] == list(range(300))
    assert pending_count(engine, table) == 0
    metadata.drop_all(engine)


async def test_outbox_relay_publishes_a_row_that_commits_late_with_a_lower_id(settings):
    """The relay reads on from the last row it sent; a row given a lower id that
    commits after the relay passed it (concurrent writers on PostgreSQL) must
    still go out once the relay has caught up, and go out once."""
    topic, metadata, table, engine = await outbox_on_private_topic(settings, "late")
    batch = uuid.uuid4().hex
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": 1000 + n, "topic": topic.name, "key": "k", "payload": encode(rejected(batch, n)),
                                       "created_at": datetime.now(timezone.utc)} for n in range(1, 40)])
    producer = EventProducer(settings, "test")
    await producer.start()
    relay = OutboxRelay(engine, table, producer, batch_size=16, idle_poll=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        while relay.published < 39:
            await asyncio.sleep(0.02)
        with engine.begin() as conn:  # the late row: below every id the relay has sent
            conn.execute(table.insert(), [{"id": 1000, "topic": topic.name, "key": "k",
                                           "payload": encode(rejected(batch, 0)), "created_at": datetime.now(timezone.utc)}])
        seen = await collect(settings, topic, f"g-{batch}", 40)
        await asyncio.sleep(0.5)  # time to publish anything twice
    finally:
        stop.set()
        relay.wake()
        await task
        await producer.stop()
    assert sorted(e.row_number for e in seen) == list(range(40))
    assert relay.published == 40 and pending_count(engine, table) == 0
    metadata.drop_all(engine)


async def test_raw_batches_land_where_send_would_put_them_and_keep_key_order(settings):
    """send_raw (the relays' batch path) against send(): same partition per key,
    order per key kept, and batches that fill up roll over without losing a record."""
    from aiokafka import AIOKafkaConsumer

    topic, reference = private_topic(), private_topic()
    await ensure_topics(settings, [topic, reference])
    keys = [f"12000233059{k:02d}".encode() for k in range(7)]
    records = [(topic.name, keys[n % 7], b'{"n": %d, "pad": "%s"}' % (n, b"x" * 900)) for n in range(2100)]
    producer = EventProducer(settings, "test")
    await producer.start()
    try:
        sent = await producer.send_raw(records)
        for key in keys:
            await producer._producer.send_and_wait(reference.name, value=b"{}", key=key)
    finally:
        await producer.stop()
    assert sent == {topic.name: 2100}

    async def read(name: str, n: int) -> list:
        consumer = AIOKafkaConsumer(name, bootstrap_servers=settings.kafka_bootstrap_servers,
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        got: list = []
        try:
            while len(got) < n:
                for messages in (await consumer.getmany(timeout_ms=1000)).values():
                    got += messages
        finally:
            await consumer.stop()
        return got

    batched, single = await asyncio.wait_for(asyncio.gather(read(topic.name, 2100), read(reference.name, 7)), 60)
    where = {m.key: m.partition for m in single}
    assert all(m.partition == where[m.key] for m in batched)
    for key in keys:
        numbers = [orjson.loads(m.value)["n"] for m in sorted(batched, key=lambda m: m.offset) if m.key == key]
        assert numbers == [n for n in range(2100) if n % 7 == keys.index(key)]


async def test_process_relay_publishes_from_a_child_process_and_counts(settings):
    from services.ingest.adapters import tables as ingest_tables

    import multiprocessing

    topic = private_topic()
    await ensure_topics(settings, [topic])
    url = settings.database_url_for("ingest")
    db.upgrade("ingest", url)
    engine = db.make_engine(url)
    batch = uuid.uuid4().hex
    with engine.begin() as conn:
        enqueue(conn, ingest_tables.outbox, topic, [rejected(batch, n) for n in range(500)])
    relay = ProcessRelay(settings, "ingest", "services.ingest.adapters.publishing:relays")
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        seen = await collect(settings, topic, f"g-{batch}", 500)
        while relay.published < 500:
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    assert [e.row_number for e in seen] == list(range(500))
    assert relay.published == 500 and pending_count(engine, ingest_tables.outbox) == 0
    assert not multiprocessing.active_children()  # the relay process left with the relay
    engine.dispose()
