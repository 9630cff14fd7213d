"""What ingest publishes, and the relays that publish it (run in their own
process: shared.outbox.ProcessRelay).

Rejections and register reads go through the ordinary outbox. Accepted
meter-days are announced by rows of the reads outbox that name the stored
version; the relay renders each MeterDayRead from that version when it
publishes, so what was stored is exactly what is published, and the chunk
transaction writes each meter-day's values once.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from operator import itemgetter

import numpy as np
import orjson
from sqlalchemy import Connection, Engine, and_, select

from services.ingest.adapters import store
from services.ingest.adapters import tables as t
from shared import db, outbox
from shared.bus import EventProducer
from shared.contracts import READS
from shared.outbox import OutboxRelay, Record

READS_OUTBOX_COLUMNS = ("mpxn", "settlement_date", "version", "fuel")


def enqueue_reads(conn: Connection, rows: list[tuple[str, date, int, str]]) -> None:
    """Announce stored versions, given as tuples in READS_OUTBOX_COLUMNS order, inside the caller's transaction."""
    db.bulk_insert(conn, t.reads_outbox, READS_OUTBOX_COLUMNS, rows)


def pending_reads(conn: Connection, after: int, limit: int) -> list[Record]:
    """The oldest announced meter-days after outbox row ``after`` as MeterDayRead records, in outbox order."""
    # The oldest rows first, then their versions by primary key: joined directly, a
    # large backlog can make PostgreSQL's planner scan every stored meter-day. Put
    # in outbox order here: ORDER BY on the join made SQLite sort the rows, values and all.
    o = select(t.reads_outbox).where(t.reads_outbox.c.id > after).order_by(t.reads_outbox.c.id).limit(limit).subquery()
    d = t.meter_days.c
    rows = conn.execute(
        select(o.c.id, o.c.fuel, d.mpxn, d.settlement_date, d.version, d.content_hash, d.kwh, d.quality,
               d.source_unit, d.flags, d.batch_id, d.received_at)
        .select_from(o.join(t.meter_days, and_(
            d.mpxn == o.c.mpxn, d.settlement_date == o.c.settlement_date, d.version == o.c.version))))
    return [(row[0], READS.name, row[2].encode(), read_event_json(*row[1:]))
            for row in sorted(rows.all(), key=itemgetter(0))]


def read_event_json(fuel: str, mpxn: str, settlement_date: date, version: int, content_hash: str, kwh: bytes,
                    quality: str, source_unit: str, flags: str, batch_id: str, received_at: datetime) -> bytes:
    """The JSON of a MeterDayRead from a stored version, serialised directly: building
    and dumping the pydantic model per meter-day costs several times more (a unit
    test holds this JSON to ``MeterDayRead``). NaN (a missing period) becomes null."""
    return orjson.dumps({
        "event_id": f"{mpxn}:{_iso(settlement_date)}:{version}", "mpxn": mpxn, "fuel": fuel,
        "settlement_date": settlement_date, "version": version, "content_hash": content_hash,
        "kwh": np.frombuffer(kwh, dtype="<f8"), "quality": quality, "source_unit": source_unit,
        "flags": flags.split(",") if flags else [], "batch_id": batch_id, "received_at": _utc(received_at),
    }, option=orjson.OPT_SERIALIZE_NUMPY)


# A relay batch holds a few dates and one arrival time per stored chunk: convert each once.
_iso = lru_cache(maxsize=256)(date.isoformat)
_utc = lru_cache(maxsize=256)(store.aware)


def relays(engine: Engine, producer: EventProducer) -> list[OutboxRelay]:
    """Both of ingest's outboxes (the factory ProcessRelay calls in its process)."""
    return [OutboxRelay(engine, t.outbox, producer, batch_size=5000, idle_poll=0.5),
            OutboxRelay(engine, t.reads_outbox, producer, batch_size=5000, idle_poll=0.5, render=pending_reads)]


def pending_count(engine: Engine) -> int:
    return sum(outbox.pending_count(engine, table) for table in (t.outbox, t.reads_outbox))
