"""The ingest service layer: parse, validate, version, store and enqueue.

Each chunk of a file is one database transaction that stores the accepted
meter-day versions, the rejections and the outbox rows together, so nothing
accepted is acknowledged before it is durable, and nothing durable is left
unpublished (the outbox relay publishes it, again after a crash). Accepted
meter-days are announced by reads-outbox rows naming the stored version, which
the relay renders into events (adapters/publishing.py).
Chunk transactions are serialised (in this process by a lock, across processes on
PostgreSQL by an advisory lock) because each decides versions from what is
already stored: two uploads of the same meter-day must not both add version 2.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from itertools import islice

import numpy as np
from sqlalchemy import Engine

from services.ingest.adapters import publishing, store
from services.ingest.adapters.tables import outbox
from services.ingest.domain.model import ParsedMeterDay, ParsedRegisterRead, RowRejection, UnparseableFile
from services.ingest.domain.parsing import parse_file
from services.ingest.domain.profiles import FeedProfile
from services.ingest.domain.validation import (
    MeterHistory, ValueStats, day_p95s, folded_history, validate_meter_day, validate_register_read,
    value_stats_of_rows,
)
from services.ingest.domain.versioning import content_hashes, decide_version
from shared.contracts import REGISTER_READS, REJECTED
from shared.contracts.events import RegisterRead, RejectedRow
from shared.outbox import enqueue

log = logging.getLogger(__name__)
CHUNK = 10_000  # meter-days per transaction: large enough to amortise the round trips, small enough to stream
_CHUNK_TRANSACTIONS = threading.Lock()


@dataclass
class Counts:
    rows_read: int = 0
    accepted: int = 0
    revised: int = 0
    unchanged: int = 0
    superseded: int = 0
    rejected: int = 0
    flagged: int = 0
    register_reads: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class BatchResult:
    batch_id: str
    detected: str
    counts: Counts = field(default_factory=Counts)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class Hasher:
    """Counts bytes and hashes them while the parser streams through them."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks, self.sha256, self.size = chunks, hashlib.sha256(), 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.sha256.update(chunk)
            self.size += len(chunk)
            yield chunk


def ingest(
    engine: Engine,
    data: bytes | Iterable[bytes],
    filename: str,
    *,
    source: str,
    today: date,
    profile: FeedProfile | None = None,
    mpxn: str | None = None,
    source_timestamp: datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> BatchResult:
    """Ingest one file or push body; raises UnparseableFile for a file that cannot be read at all."""
    now = datetime.now(timezone.utc)
    source_ts = source_timestamp or now
    hasher = Hasher([data] if isinstance(data, bytes) else data)
    batch_id = str(uuid.uuid4())
    with engine.begin() as conn:
        store.create_batch(conn, {"id": batch_id, "filename": filename[:300], "source": source,
                                  "profile": profile.name if profile else None, "sha256": "", "bytes": 0,
                                  "received_at": now, "status": "processing"})
    try:
        parsed = parse_file(hasher, filename, profile, mpxn=mpxn)
        result = BatchResult(batch_id, parsed.detected.describe())
        for chunk in _chunks(parsed, CHUNK):
            _write_chunk(engine, chunk, result, today, now, source_ts)
            if on_progress:
                on_progress(len(chunk))
        result.counts.rows_read = parsed.rows_read
    except UnparseableFile as exc:
        with engine.begin() as conn:
            store.update_batch(conn, batch_id, status="failed", error=exc.reason, completed_at=datetime.now(timezone.utc),
                               sha256=hasher.sha256.hexdigest(), bytes=hasher.size)
        raise
    with engine.begin() as conn:
        store.update_batch(conn, batch_id, status="done", detected=result.detected, completed_at=datetime.now(timezone.utc),
                           sha256=hasher.sha256.hexdigest(), bytes=hasher.size, **result.counts.as_dict())
    log.info("batch %s %s: %s", batch_id, filename, result.counts.as_dict())
    return result


def _write_chunk(engine: Engine, items: list, result: BatchResult, today: date, now: datetime,
                 source_ts: datetime) -> None:
    with _CHUNK_TRANSACTIONS, engine.begin() as conn:
        store.lock_meter_days(conn)
        _store_chunk(conn, items, result, today, now, source_ts)


def _store_chunk(conn, items: list, result: BatchResult, today: date, now: datetime, source_ts: datetime) -> None:
    counts = result.counts
    days = [i for i in items if isinstance(i, ParsedMeterDay)]
    reads = [i for i in items if isinstance(i, ParsedRegisterRead)]
    refused: list[RowRejection] = [i for i in items if isinstance(i, RowRejection)]
    points = store.supply_point_infos(conn, {d.mpxn for d in days} | {r.mpxn for r in reads})
    histories = store.histories(conn, {d.mpxn for d in days})
    existing = store.existing_versions(conn, {(d.mpxn, d.settlement_date) for d in days})

    versions: dict[tuple, tuple] = {}  # the current row per meter-day of this chunk
    audit: list[tuple] = []  # versions that are not (or no longer) current
    retire: list = []
    announced: list[tuple[str, date, int, str]] = []  # publishing.READS_OUTBOX_COLUMNS
    touched: dict[str, MeterHistory] = {}
    for day, (digest, blob, day_p95, values) in zip(days, _value_summaries(days)):
        mpxn = day.mpxn
        verdict = validate_meter_day(day, points.get(mpxn), today, histories.get(mpxn), stats=values)
        if isinstance(verdict, RowRejection):
            refused.append(verdict)
            continue
        key = (mpxn, day.settlement_date)
        decision = decide_version(existing.get(key, ()), digest, source_ts)
        if decision.kind == "unchanged":
            counts.unchanged += 1
            continue
        existing.setdefault(key, []).append((decision.version, digest, source_ts))
        row = (mpxn, day.settlement_date, decision.version, digest, source_ts, result.batch_id, day.row_number,
               blob, day.quality, day.source_unit, ",".join(verdict.flags), now)  # store.VERSION_COLUMNS less current
        if not decision.becomes_current:
            audit.append(row + (False,))
            counts.superseded += 1
            continue
        if key in versions:  # revised again within this chunk
            audit.append(versions[key][:-1] + (False,))
        versions[key] = row + (True,)
        counts.accepted += 1
        counts.flagged += bool(verdict.flags)
        if decision.version > 1:
            counts.revised += 1
            retire.append(key)
        announced.append((mpxn, day.settlement_date, decision.version, points[mpxn].fuel))
        touched[mpxn] = folded_history(touched.get(mpxn, histories.get(mpxn)), day_p95)

    register_rows, register_events = [], []
    for read in reads:
        verdict = validate_register_read(read, points.get(read.mpxn), today)
        if isinstance(verdict, RowRejection):
            refused.append(verdict)
            continue
        counts.register_reads += 1
        register_rows.append({"mpxn": read.mpxn, "read_date": read.read_date, "read_type": read.read_type,
                              "register_value": read.register_value, "unit": read.unit, "batch_id": result.batch_id,
                              "received_at": now})
        register_events.append(RegisterRead(
            event_id=f"{read.mpxn}:{read.read_date}:{read.read_type}:{read.register_value}", mpxn=read.mpxn,
            read_date=read.read_date, register_value=read.register_value, unit=read.unit, read_type=read.read_type,
            batch_id=result.batch_id, received_at=now))

    counts.rejected += len(refused)
    store.retire_current(conn, retire)
    store.insert_versions(conn, audit + list(versions.values()))
    store.save_histories(conn, touched)
    store.upsert_register_reads(conn, register_rows)
    store.insert_rejections(conn, [
        (result.batch_id, r.row_number, r.mpxn, r.settlement_date, r.reason_code, r.reason) for r in refused])
    publishing.enqueue_reads(conn, announced)
    enqueue(conn, outbox, REGISTER_READS, register_events)
    enqueue(conn, outbox, REJECTED, [
        RejectedRow(batch_id=result.batch_id, row_number=r.row_number, mpxn=r.mpxn, settlement_date=r.settlement_date,
                    reason_code=r.reason_code, reason=r.reason, rejected_at=now) for r in refused])


def _value_summaries(days: list[ParsedMeterDay]) -> list[tuple[str, bytes, float, ValueStats]]:
    """Each meter-day's content hash, stored values (shared.hh.encode_values), day
    p95 and value stats, computed a float64 matrix per period count rather than a
    day at a time."""
    out: list = [None] * len(days)
    by_length: dict[int, list[int]] = {}
    for i, day in enumerate(days):
        by_length.setdefault(len(day.values), []).append(i)
    for indices in by_length.values():
        matrix = np.array([days[i].values for i in indices], dtype="<f8")  # None -> NaN
        digests = content_hashes(matrix, [days[i].quality for i in indices])
        for i, digest, row, p95, stats in zip(indices, digests, matrix, day_p95s(matrix).tolist(),
                                              value_stats_of_rows(matrix)):
            out[i] = (digest, row.tobytes(), p95, stats)
    return out
