"""The ingest service layer: parse (in a parse process, a chunk ahead: see
parse_process.py), validate, version, store and enqueue.

Each chunk of a file is one database transaction that stores the accepted
meter-day versions, the rejections and the outbox rows together, so nothing
accepted is acknowledged before it is durable, and nothing durable is left
unpublished (the relay publishes it, again after a crash). Accepted meter-days
need no outbox rows: the relay publishes the stored versions themselves
(adapters/publishing.py).
Chunk transactions are serialised (in this process by a lock, across processes on
PostgreSQL by an advisory lock) because each decides versions from what is
already stored: two uploads of the same meter-day must not both add version 2.
This also makes versions commit in the order of their ``seq``, which the relay relies on.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from prometheus_client import Counter, Histogram
from sqlalchemy import Engine

from services.ingest import parse_process
from services.ingest.adapters import store
from services.ingest.adapters.tables import outbox
from services.ingest.domain.chunks import PreparedChunk
from services.ingest.domain.model import RowRejection, UnparseableFile
from services.ingest.domain.profiles import FeedProfile
from services.ingest.domain.validation import MeterHistory, fold_histories, validate_block, validate_register_read
from services.ingest.domain.versioning import decide_version
from shared.contracts import REGISTER_READS, REJECTED
from shared.contracts.events import RegisterRead, RejectedRow
from shared.hh import encode_rows
from shared.outbox import enqueue

log = logging.getLogger(__name__)
CHUNK = 10_000  # meter-days per transaction: large enough to amortise the round trips, small enough to stream
_CHUNK_TRANSACTIONS = threading.Lock()

BATCHES = Counter("meterstream_ingest_batches_total", "Files and pushes ingested, by how they ended",
                  ["source", "status"])
BATCH_SECONDS = Histogram("meterstream_ingest_batch_seconds", "Time to ingest a file or push, to the last commit",
                          ["source"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
METER_DAYS = Counter("meterstream_ingest_meter_days_total",
                     "The counts of ingested batches: rows read, meter-days by outcome, register reads", ["outcome"])


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
    on_chunk_stored: Callable[[], None] | None = None,
) -> BatchResult:
    """Ingest one file or push body; raises UnparseableFile for a file that cannot be read at all.
    ``on_chunk_stored`` is called after each chunk's transaction (to wake the outbox relay)."""
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    source_ts = source_timestamp or now
    hasher = Hasher([data] if isinstance(data, bytes) else data)
    batch_id = str(uuid.uuid4())
    with engine.begin() as conn:
        store.create_batch(conn, {"id": batch_id, "filename": filename[:300], "source": source,
                                  "profile": profile.name if profile else None, "sha256": "", "bytes": 0,
                                  "received_at": now, "status": "processing"})
    result = BatchResult(batch_id, detected="")
    try:
        with parse_process.parsed(hasher, filename, profile, mpxn, CHUNK) as parsed:
            result.detected = parsed.detected.describe()
            for chunk in parsed.chunks():
                _write_chunk(engine, chunk, result, today, now, source_ts)
                if on_chunk_stored:
                    on_chunk_stored()
        result.counts.rows_read = parsed.rows_read
    except Exception as exc:
        # The batch shows why it stopped and what its stored chunks hold (those stay stored and published).
        error = exc.reason if isinstance(exc, UnparseableFile) else f"{type(exc).__name__}: {exc}"
        with engine.begin() as conn:
            store.update_batch(conn, batch_id, status="failed", error=error[:2000], detected=result.detected or None,
                               completed_at=datetime.now(timezone.utc), sha256=hasher.sha256.hexdigest(),
                               bytes=hasher.size, **result.counts.as_dict())
        _record(source, "failed", started, result.counts)
        raise
    with engine.begin() as conn:
        store.update_batch(conn, batch_id, status="done", detected=result.detected, completed_at=datetime.now(timezone.utc),
                           sha256=hasher.sha256.hexdigest(), bytes=hasher.size, **result.counts.as_dict())
    _record(source, "done", started, result.counts)
    log.info("batch %s %s: %s", batch_id, filename, result.counts.as_dict())
    return result


def _record(source: str, status: str, started: float, counts: Counts) -> None:
    BATCHES.labels(source, status).inc()
    BATCH_SECONDS.labels(source).observe(time.perf_counter() - started)
    for outcome, n in counts.as_dict().items():
        METER_DAYS.labels(outcome).inc(n)


def _write_chunk(engine: Engine, chunk: PreparedChunk, result: BatchResult, today: date, now: datetime,
                 source_ts: datetime) -> None:
    with _CHUNK_TRANSACTIONS, engine.begin() as conn:
        store.lock_meter_days(conn)
        _store_chunk(conn, chunk, result, today, now, source_ts)


def _store_chunk(conn, chunk: PreparedChunk, result: BatchResult, today: date, now: datetime,
                 source_ts: datetime) -> None:
    counts = result.counts
    blocks, reads, refused = chunk.blocks, chunk.reads, chunk.refused[:]
    meters = {m for b in blocks for m in b.mpxns}
    points, histories = store.supply_points_and_histories(conn, meters | {r.mpxn for r in reads})
    existing, current_seqs = store.existing_versions(conn, {key for b in blocks for key in zip(b.mpxns, b.dates)})

    versions: dict[tuple, tuple] = {}  # the current row per meter-day of this chunk
    audit: list[tuple] = []  # versions that are not (or no longer) current
    retire: list[int] = []  # the seqs of stored current versions that revisions replace
    touched: dict[str, MeterHistory] = {}
    batch_id = result.batch_id
    for block, digests, p95s in zip(blocks, chunk.digests, chunk.p95s):
        verdicts = validate_block(block, points, today, histories)
        blobs = encode_rows(block.kwh)
        current: list[int] = []  # rows of the block that become the current version, in order
        for i, (verdict, mpxn, day, digest) in enumerate(zip(verdicts, block.mpxns, block.dates, digests)):
            if verdict.__class__ is RowRejection:
                refused.append(verdict)  # type: ignore[arg-type]
                continue
            key = (mpxn, day)
            stored = existing.setdefault(key, [])
            decision = decide_version(stored, digest, source_ts)
            if decision.kind == "unchanged":
                counts.unchanged += 1
                continue
            stored.append((decision.version, digest, source_ts))
            row = (mpxn, day, decision.version, points[mpxn].fuel, digest, source_ts, batch_id, block.row_numbers[i],
                   blobs[i], block.qualities[i], block.source_units[i], ",".join(verdict), now)  # type: ignore[arg-type]
            # ^ store.VERSION_COLUMNS less current
            if not decision.becomes_current:
                audit.append(row + (False,))
                counts.superseded += 1
                continue
            if key in versions:  # revised again within this chunk
                audit.append(versions[key][:-1] + (False,))
            versions[key] = row + (True,)
            if decision.version > 1:  # type: ignore[operator]
                counts.revised += 1
                if key in current_seqs:  # not when its current version is one this chunk stored
                    retire.append(current_seqs.pop(key))
            current.append(i)
        if current:
            counts.accepted += len(current)
            counts.flagged += sum(1 for i in current if verdicts[i])
            fold_histories(touched, histories, [block.mpxns[i] for i in current], p95s[current])

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
    enqueue(conn, outbox, REGISTER_READS, register_events)
    enqueue(conn, outbox, REJECTED, [
        RejectedRow(batch_id=result.batch_id, row_number=r.row_number, mpxn=r.mpxn, settlement_date=r.settlement_date,
                    reason_code=r.reason_code, reason=r.reason, rejected_at=now) for r in refused])

