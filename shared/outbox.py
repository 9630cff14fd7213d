"""Transactional outbox: events are written in the same database transaction as
the state they describe, and a relay publishes them afterwards.

A crash between commit and publish only delays the event: the relay starts
again from the oldest unpublished row. A crash between publish and delete
publishes it twice, which consumers absorb because they are idempotent.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timezone

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger, Column, DateTime, Engine, Integer, LargeBinary, MetaData, String, Table, delete, func, select,
)

from shared import db
from shared.bus import EventProducer, encode
from shared.contracts import Topic

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


class OutboxRelay:
    """Publishes outbox rows in id order (so one key's events stay in order),
    then deletes them. ``wake()`` after a commit avoids waiting for the poll."""

    def __init__(self, engine: Engine, table: Table, producer: EventProducer, batch_size: int = 2000):
        self._engine, self._table, self._producer, self._batch = engine, table, producer, batch_size
        self._wakeup = asyncio.Event()
        self.published = 0

    def wake(self) -> None:
        self._wakeup.set()

    def _fetch(self) -> list:
        with self._engine.connect() as conn:
            return conn.execute(
                select(self._table.c.id, self._table.c.topic, self._table.c.key, self._table.c.payload)
                .order_by(self._table.c.id)
                .limit(self._batch)
            ).all()

    def _delete(self, ids: list[int]) -> None:
        # Exactly the published ids, not "up to the last one": on PostgreSQL a
        # concurrent transaction can commit a lower id after the fetch.
        with self._engine.begin() as conn:
            conn.execute(delete(self._table).where(db.any_of(conn, self._table.c.id, ids)))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            rows = await asyncio.to_thread(self._fetch)
            if not rows:
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), 1.0)
                except asyncio.TimeoutError:
                    pass
                continue
            await self._producer.send_raw([(r.topic, r.key.encode(), r.payload) for r in rows])
            await asyncio.to_thread(self._delete, [r.id for r in rows])
            self.published += len(rows)
