"""What ingest publishes, and the relays that publish it (run in their own
process: shared.outbox.ProcessRelay).

Rejections and register reads go through the ordinary outbox. Accepted
meter-days need none: every stored version has a ``seq`` in the order it was
stored, and the relay publishes the current versions after the last ``seq`` it
published (one row, ``ingest_reads_published``), rendering each MeterDayRead from
the stored version. What was stored is exactly what is published, and the chunk
transaction writes each meter-day once.

Version decisions are serialised (store.lock_meter_days), so versions commit in
``seq`` order and the relay never passes one that commits later. A version
superseded before it was published is not published: its successor is.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

import numpy as np
import orjson
from sqlalchemy import Connection, Engine, func, select, update

from services.ingest.adapters import store
from services.ingest.adapters import tables as t
from shared import db, outbox
from shared.bus import EventProducer
from shared.contracts import READS
from shared.outbox import OutboxRelay, Record


def published_seq(conn: Connection) -> int:
    """The ``seq`` of the last version the relay has published."""
    return conn.execute(select(t.reads_published.c.seq)).scalar_one()


def mark_published(conn: Connection, seqs: list[int]) -> None:
    """Versions are published in ``seq`` order: the last one marks them all."""
    last = max(seqs)
    conn.execute(update(t.reads_published).where(t.reads_published.c.seq < last).values(seq=last))


def _unpublished(after: int):
    d = t.meter_days.c
    return (d.seq > after) & d.current


def pending_reads(conn: Connection, after: int, limit: int) -> list[Record]:
    """The oldest unpublished current versions after ``seq`` ``after`` (or after the
    last one published, when that is later) as MeterDayRead records, in ``seq`` order."""
    d = t.meter_days.c
    rows = db.plain_rows(conn, select(
        d.seq, d.fuel, d.mpxn, d.settlement_date, d.version, d.content_hash, d.kwh, d.quality, d.source_unit, d.flags,
        d.batch_id, d.received_at,
    ).where(_unpublished(max(after, published_seq(conn)))).order_by(d.seq).limit(limit))
    return [(row[0], READS.name, row[2].encode(), read_event_json(*row[1:])) for row in rows]


def read_event_json(fuel: str, mpxn: str, settlement_date: date | str, version: int, content_hash: str, kwh: bytes,
                    quality: str, source_unit: str, flags: str, batch_id: str, received_at: datetime | str) -> bytes:
    """The JSON of a MeterDayRead from a stored version, serialised directly: building
    and dumping the pydantic model per meter-day costs several times more (a unit
    test holds this JSON to ``MeterDayRead``). NaN (a missing period) becomes null.
    Dates and times are objects (PostgreSQL) or SQLite's ISO text."""
    day = _iso(settlement_date)
    return orjson.dumps({
        "event_id": f"{mpxn}:{day}:{version}", "mpxn": mpxn, "fuel": fuel,
        "settlement_date": day, "version": version, "content_hash": content_hash,
        "kwh": np.frombuffer(kwh, dtype="<f8"), "quality": quality, "source_unit": source_unit,
        "flags": flags.split(",") if flags else [], "batch_id": batch_id, "received_at": _utc(received_at),
    }, option=orjson.OPT_SERIALIZE_NUMPY)


# A relay batch holds a few dates and one arrival time per stored chunk: convert each once.
@lru_cache(maxsize=256)
def _iso(day: date | str) -> str:
    return day if isinstance(day, str) else day.isoformat()


@lru_cache(maxsize=256)
def _utc(at: datetime | str) -> datetime:
    return store.aware(datetime.fromisoformat(at) if isinstance(at, str) else at)


def relays(engine: Engine, producer: EventProducer) -> list[OutboxRelay]:
    """The outbox and the meter-day versions (the factory ProcessRelay calls in its process)."""
    return [OutboxRelay(engine, t.outbox, producer, batch_size=5000, idle_poll=0.5),
            OutboxRelay(engine, t.meter_days, producer, batch_size=5000, idle_poll=0.5, render=pending_reads,
                        acknowledge=mark_published)]


def pending_count(engine: Engine) -> int:
    """Events not yet published: the outbox's and the current versions not yet published."""
    with engine.connect() as conn:
        reads = conn.execute(select(func.count()).select_from(t.meter_days)
                             .where(_unpublished(published_seq(conn)))).scalar_one()
    return outbox.pending_count(engine, t.outbox) + reads
