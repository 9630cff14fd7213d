"""The bus: topic creation, an acks=all producer, at-least-once batch consumers
and faust app settings tuned for quick consumer-group joins.

Delivery is at-least-once everywhere: a consumer commits offsets only after its
handler returned, and handlers make their effect durable and idempotent before
returning. The bus is transport, never the system of record.
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import faust
import numpy as np
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from pydantic import BaseModel, ValidationError

from shared.config import Settings
from shared.contracts import TOPICS, Topic
from shared.metrics import EVENTS_CONSUMED, EVENTS_INVALID, EVENTS_PRODUCED

log = logging.getLogger(__name__)

# Consumer-group timing from the platform note: Tansu waits the full rebalance
# timeout on every join, so keep it short; the same values are fine on Kafka.
GROUP_TIMING = dict(rebalance_timeout_ms=5000, session_timeout_ms=10000, heartbeat_interval_ms=1000)


def encode(event: BaseModel) -> bytes:
    return event.model_dump_json().encode()


async def ensure_topics(settings: Settings, topics: Iterable[Topic] = TOPICS) -> None:
    """Create the project's topics with their partition counts (idempotent)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(t.name, num_partitions=t.partitions, replication_factor=settings.topic_replication)
            for t in topics if t.name not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another process won the race
            log.info("created topics %s", ", ".join(t.name for t in missing))
    finally:
        await admin.close()


async def wait_for_broker(settings: Settings, timeout: float = 60.0) -> None:
    """Block until the broker answers metadata requests."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"broker {settings.kafka_bootstrap_servers} not reachable: {exc}") from exc
            await asyncio.sleep(0.5)
        finally:
            await admin.close()


def default_partitions(keys: Sequence[bytes], partition_count: int) -> list[int]:
    """The partition index Kafka's default partitioner picks for each key (murmur2
    of the key, as in the Java client and aiokafka), for many keys at once:
    aiokafka's murmur2 is pure Python and costs about 4 µs a key."""
    out = np.empty(len(keys), dtype=np.int64)
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    for length in np.unique(lengths).tolist():
        index = np.flatnonzero(lengths == length)
        rows = keys if len(index) == len(keys) else [keys[i] for i in index.tolist()]
        data = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(index), length)
        out[index] = (_murmur2(data) & 0x7FFFFFFF) % partition_count
    return out.tolist()


def _murmur2(data: np.ndarray) -> np.ndarray:
    """Kafka's murmur2 of each row of a uint8 matrix (keys of one length); uint32 arithmetic wraps as Java's int does."""
    m = np.uint32(0x5BD1E995)
    length = data.shape[1]
    h = np.full(len(data), 0x9747B28C ^ length, dtype=np.uint32)
    words = np.ascontiguousarray(data[:, :length - length % 4]).view("<u4")
    for j in range(words.shape[1]):
        k = words[:, j] * m
        k ^= k >> 24
        k *= m
        h = (h * m) ^ k
    tail, base = length % 4, length - length % 4
    if tail:
        for shift in range(tail - 1, -1, -1):
            h ^= data[:, base + shift].astype(np.uint32) << np.uint32(8 * shift)
        h *= m
    h ^= h >> 13
    h *= m
    h ^= h >> 15
    return h


class EventProducer:
    """acks=all producer; ``send_many`` returns once every event is acknowledged."""

    def __init__(self, settings: Settings, service: str):
        self._settings = settings
        self._service = service
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        # Created here: aiokafka binds to the running event loop.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            acks="all",
            linger_ms=5,
            max_batch_size=256 * 1024,
            client_id=f"meterstream-{self._service}",
        )
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send_many(self, topic: Topic, events: Sequence[BaseModel]) -> None:
        futures = [
            await self._producer.send(topic.name, value=encode(e), key=topic.key_of(e)) for e in events
        ]
        if futures:
            await asyncio.gather(*futures)
            EVENTS_PRODUCED.labels(self._service, topic.name).inc(len(futures))

    async def send_raw(self, records: Sequence[tuple[str, bytes, bytes]]) -> Counter[str]:
        """Publish already-encoded (topic name, key, value) records, e.g. from an
        outbox, in order; returns how many went to each topic.

        Uses aiokafka's batch API: a ``send()`` per record costs several times the
        CPU (a future and an accumulator pass each), which for an outbox relay is
        most of its work. Partitions are chosen as the producer's default
        partitioner chooses them (:func:`default_partitions`), so a key lands where
        ``send()`` would put it, and its records keep their order."""
        producer = self._producer
        by_topic: dict[str, list[bytes]] = {}
        for name, key, _ in records:
            by_topic.setdefault(name, []).append(key)
        chosen: dict[str, Iterator[int]] = {}
        for name, keys in by_topic.items():
            found = sorted(await producer.partitions_for(name))
            chosen[name] = iter([found[i] for i in default_partitions(keys, len(found))])
        open_batches: dict[tuple[str, int], BatchBuilder] = {}
        futures = []
        for name, key, value in records:
            partition = next(chosen[name])
            batch = open_batches.get((name, partition))
            if batch is None or batch.append(key=key, value=value, timestamp=None) is None:
                if batch is not None:  # full: send it and start the next
                    futures.append(await producer.send_batch(batch, name, partition=partition))
                batch = open_batches[name, partition] = producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None) is None:
                    raise ValueError(f"a {len(value)}-byte record for {name} does not fit in a batch")
        for (name, partition), batch in open_batches.items():
            futures.append(await producer.send_batch(batch, name, partition=partition))
        await asyncio.gather(*futures)
        sent = Counter({name: len(keys) for name, keys in by_topic.items()})
        for name, count in sent.items():
            EVENTS_PRODUCED.labels(self._service, name).inc(count)
        return sent

    async def send(self, topic: Topic, event: BaseModel) -> None:
        await self.send_many(topic, [event])


@dataclass(frozen=True)
class Envelope:
    topic: Topic
    partition: int
    offset: int
    event: BaseModel


BatchHandler = Callable[[list[Envelope]], Awaitable[None]]


async def consume_batches(
    settings: Settings,
    service: str,
    group_id: str,
    topics: Sequence[Topic],
    handler: BatchHandler,
    stop: asyncio.Event,
    max_records: int = 2000,
) -> None:
    """At-least-once batch loop: fetch, decode, hand over, then commit.

    A handler failure is retried with backoff on the same batch (nothing is
    committed until it succeeds). An undecodable record is logged with its
    coordinates, counted and skipped, so one bad record cannot stall a partition.
    """
    consumer = AIOKafkaConsumer(
        *(t.name for t in topics),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        client_id=f"meterstream-{service}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_records,
        **GROUP_TIMING,
    )
    by_name = {t.name: t for t in topics}
    await consumer.start()
    try:
        while not stop.is_set():
            records = await consumer.getmany(timeout_ms=500, max_records=max_records)
            if not records:
                continue
            batch: list[Envelope] = []
            for tp, messages in records.items():
                topic = by_name[tp.topic]
                for m in messages:
                    try:
                        batch.append(Envelope(topic, tp.partition, m.offset, topic.model.model_validate_json(m.value)))
                    except (ValidationError, ValueError, TypeError) as exc:
                        EVENTS_INVALID.labels(service, tp.topic).inc()
                        log.error("undecodable event %s[%d]@%d skipped: %s", tp.topic, tp.partition, m.offset, exc)
            delay = 0.5
            while batch:
                try:
                    await handler(batch)
                    break
                except Exception:
                    log.exception("handler failed on %d events; retrying in %.1fs", len(batch), delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30)
                    if stop.is_set():
                        return  # uncommitted: redelivered after restart
            for env in batch:
                EVENTS_CONSUMED.labels(service, env.topic.name).inc()
            await consumer.commit()
    finally:
        await consumer.stop()


def faust_app(service: str, settings: Settings) -> faust.App:
    """A faust app with its own id (faust names internal topics after it) and the
    join/heartbeat timings of the platform note."""
    return faust.App(
        f"meterstream-{service}",
        broker=",".join(f"kafka://{h}" for h in settings.kafka_bootstrap_servers.split(",")),
        store="memory://",
        web_enabled=False,
        producer_acks=-1,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        broker_rebalance_timeout=5,
        broker_session_timeout=10,
        broker_heartbeat_interval=1,
        stream_wait_empty=False,
    )


def faust_topic(app: faust.App, topic: Topic) -> faust.TopicT:
    return app.topic(topic.name, value_serializer="raw", key_serializer="raw", partitions=topic.partitions)


def decode_all(topic: Topic, values: Iterable[bytes], service: str) -> list[BaseModel]:
    """Decode a faust batch; undecodable values are logged, counted and skipped."""
    events = []
    for value in values:
        try:
            events.append(topic.model.model_validate_json(value))
        except (ValidationError, ValueError, TypeError) as exc:
            EVENTS_INVALID.labels(service, topic.name).inc()
            log.error("undecodable event on %s skipped: %s", topic.name, exc)
    EVENTS_CONSUMED.labels(service, topic.name).inc(len(events))
    return events


def faust_worker(app: faust.App):
    """A runtime worker that runs a faust app inside the service's event loop."""

    async def run(stop: asyncio.Event) -> None:
        await app.start()
        try:
            await stop.wait()
        finally:
            await app.stop()

    return run
