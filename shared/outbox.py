"""Transactional outbox: events are written in the same database transaction as
the state they describe, and a relay publishes them afterwards.

A crash between commit and publish only delays the event: the relay starts
again from the oldest unpublished row. A crash between publish and delete
publishes it twice, which consumers absorb because they are idempotent.
"""
from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import signal
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger, Column, Connection, DateTime, Engine, Integer, LargeBinary, MetaData, String, Table, delete, func,
    select,
)

from shared import db
from shared.bus import EventProducer, encode
from shared.config import Settings
from shared.contracts import Topic
from shared.logging import configure_logging
from shared.metrics import EVENTS_PRODUCED

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData, service: str) -> Table:
    return Table(
        f"{service}_outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("topic", String(100), nullable=False),
        Column("key", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


def enqueue(conn, table: Table, topic: Topic, events: Sequence[BaseModel]) -> None:
    """Add events to the outbox inside the caller's transaction."""
    enqueue_encoded(conn, table, topic, [(topic.key_of(e).decode(), encode(e)) for e in events])


def enqueue_encoded(conn, table: Table, topic: Topic, records: Sequence[tuple[str, bytes]]) -> None:
    """Add already-encoded (key, JSON payload) events to the outbox inside the
    caller's transaction; for hot paths that serialise without building models
    (the payloads must still be valid instances of ``topic.model``)."""
    if records:
        now = datetime.now(timezone.utc)
        db.bulk_insert(conn, table, ("topic", "key", "payload", "created_at"),
                       [(topic.name, key, payload, now) for key, payload in records])


def pending_count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


Record = tuple[int, str, bytes, bytes]  # (outbox row id, topic, key, payload)
Renderer = Callable[[Connection, int, int], Sequence[Record]]
Acknowledger = Callable[[Connection, list[int]], None]


class OutboxRelay:
    """Publishes outbox rows in id order (so one key's events stay in order),
    then deletes them. ``wake()`` after a commit avoids waiting for the poll.

    While one batch is on its way to the broker (and then deleted) the next is
    fetched: rows after the last one sent. Once caught up it starts again from
    the oldest row left, which picks up a lower id that committed late (possible
    on PostgreSQL with concurrent writers).

    A table that is not an outbox but a log of the state itself (ingest's
    meter-day versions) passes ``render`` and ``acknowledge``: ``render``, given
    a connection, an id and a limit, returns the oldest unpublished rows after that
    id as records, in id order (after 0: the oldest unpublished); ``acknowledge``
    records, in the connection's transaction, that these ids were published."""

    def __init__(self, engine: Engine, table: Table, producer: EventProducer, batch_size: int = 2000,
                 idle_poll: float = 1.0, render: Renderer | None = None, acknowledge: Acknowledger | None = None):
        self._engine, self._table, self._producer, self._batch = engine, table, producer, batch_size
        self._idle_poll = idle_poll
        self._render = render or self._stored_payloads
        self._acknowledge = acknowledge or self._delete
        self._wakeup = asyncio.Event()
        self.published = 0
        self.on_published: Callable[[Counter[str]], None] | None = None  # told each batch's count per topic

    def wake(self) -> None:
        self._wakeup.set()

    def _stored_payloads(self, conn: Connection, after: int, limit: int) -> list[Record]:
        c = self._table.c
        rows = conn.execute(select(c.id, c.topic, c.key, c.payload).where(c.id > after).order_by(c.id).limit(limit))
        return [(row_id, topic, key.encode(), payload) for row_id, topic, key, payload in rows.tuples()]

    def _fetch(self, after: int) -> Sequence[Record]:
        with self._engine.connect() as conn:
            return self._render(conn, after, self._batch)

    def _delete(self, conn: Connection, ids: list[int]) -> None:
        # Exactly the published ids, not "up to the last one": on PostgreSQL a
        # concurrent transaction can commit a lower id after the fetch.
        conn.execute(delete(self._table).where(db.any_of(conn, self._table.c.id, ids)))

    def _done(self, ids: list[int]) -> None:
        with self._engine.begin() as conn:
            self._acknowledge(conn, ids)

    async def _publish(self, rows: Sequence[Record]) -> None:
        sent = await self._producer.send_raw([r[1:] for r in rows])
        await asyncio.to_thread(self._done, [r[0] for r in rows])
        self.published += len(rows)
        if self.on_published:
            self.on_published(sent)

    async def run(self, stop: asyncio.Event) -> None:
        after = 0  # the last id sent in this pass
        in_flight: asyncio.Task | None = None
        try:
            while not stop.is_set():
                rows = await asyncio.to_thread(self._fetch, after)
                if in_flight:  # one batch at a time: a key's events reach the broker in order
                    await in_flight
                    in_flight = None
                if rows:
                    after = rows[-1][0]
                    in_flight = asyncio.create_task(self._publish(rows))
                elif after:
                    after = 0  # caught up: look again from the oldest row left
                else:
                    self._wakeup.clear()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), self._idle_poll)
        finally:
            if in_flight:  # finish the batch in hand
                await in_flight


class ProcessRelay:
    """An :class:`OutboxRelay` in a child process, for a service that fills its
    outbox in bulk (ingest): producing is CPU work in the Kafka client, and in the
    service's own process it would take turns on one core (the GIL) with the
    parsing that fills the outbox. Used by the runtime like an OutboxRelay.

    The child publishes exactly as the in-process relay would (it is one), and
    leaves when its parent does, even when the parent was killed."""

    def __init__(self, settings: Settings, service: str, relays: str):
        """``relays``: "module:function", a function (engine, producer) -> [OutboxRelay]
        that the child process calls to build the relays it runs."""
        self._settings, self._service, self._relays = settings, service, relays
        self._ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited event loop or threads
        self._wakeup = self._ctx.Event()
        self._reports = self._ctx.SimpleQueue()  # {topic: events published} from the child
        self.published = 0

    def wake(self) -> None:
        self._wakeup.set()

    def _drain(self) -> None:
        while not self._reports.empty():
            for topic, count in self._reports.get().items():
                EVENTS_PRODUCED.labels(self._service, topic).inc(count)
                self.published += count

    async def run(self, stop: asyncio.Event) -> None:
        child = self._ctx.Process(
            target=_relay_process_main, name=f"{self._service}-outbox-relay", daemon=True,
            args=(self._settings.model_dump(), self._service, self._relays, self._wakeup, self._reports, os.getpid()))
        child.start()
        try:
            while not stop.is_set() and child.is_alive():
                self._drain()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.01)  # the published count lags by at most this
        finally:
            child.terminate()  # SIGTERM: the child finishes the batch in hand
            await asyncio.to_thread(child.join, 15)
            if child.is_alive():
                child.kill()
                await asyncio.to_thread(child.join)
            self._drain()
        if not stop.is_set():  # the supervisor restarts it
            raise RuntimeError(f"the outbox relay process exited with {child.exitcode}")


def _relay_process_main(settings: dict, service: str, relays: str, wakeup, reports, parent: int) -> None:
    config = Settings(**settings)
    configure_logging(f"{service}-relay", config.log_level, config.log_format)
    module, function = relays.split(":")
    asyncio.run(_relay_process(config, service, getattr(importlib.import_module(module), function), wakeup, reports,
                               parent))


async def _relay_process(settings: Settings, service: str, build: Callable[[Engine, EventProducer], list[OutboxRelay]],
                         wakeup, reports, parent: int) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    engine = db.make_engine(settings.database_url_for(service))
    producer = EventProducer(settings, service)
    await producer.start()
    relays = build(engine, producer)
    for relay in relays:
        relay.on_published = lambda sent: reports.put(dict(sent))

    async def watch() -> None:
        while not stop.is_set():
            if os.getppid() != parent:  # the service is gone (even SIGKILLed): do not outlive it
                stop.set()
            if await asyncio.to_thread(wakeup.wait, 0.05):
                wakeup.clear()
                for relay in relays:
                    relay.wake()

    log.info("%s outbox relay process started", service)
    try:
        await asyncio.gather(*(relay.run(stop) for relay in relays), watch())
    finally:
        await producer.stop()
        engine.dispose()
