"""A parsed file cut into chunks ready to store: the CPU work of ingest that needs
no database, done in the parse process (services/ingest/parse_process.py) while the
ingest process stores the chunk before.

Each chunk is one database transaction in ingest. Its meter-days come in blocks
of one period count, with their content hashes and day p95s already computed.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from services.ingest.domain.model import (
    MeterDayBlock, ParsedMeterDay, ParsedRegisterRead, RowRejection, StreamItem,
)
from services.ingest.domain.validation import day_p95s
from services.ingest.domain.versioning import content_hashes


@dataclass(frozen=True, slots=True)
class PreparedChunk:
    """``digests[i]`` and ``p95s[i]`` are the content hashes and day p95s of the rows of ``blocks[i]``."""

    blocks: list[MeterDayBlock]
    digests: list[list[str]]
    p95s: list[np.ndarray]
    reads: list[ParsedRegisterRead]
    refused: list[RowRejection]


def prepared_chunks(items: Iterable[StreamItem], size: int) -> Iterator[PreparedChunk]:
    """The items of a parsed file in chunks of about ``size`` meter-days, prepared."""
    for chunk in chunked(items, size):
        blocks = blocks_of(chunk)
        yield PreparedChunk(blocks, [content_hashes(b.kwh, b.qualities) for b in blocks],
                            [day_p95s(b.kwh) for b in blocks], [i for i in chunk if isinstance(i, ParsedRegisterRead)],
                            [i for i in chunk if isinstance(i, RowRejection)])


def chunked(items: Iterable[StreamItem], size: int) -> Iterator[list[StreamItem]]:
    """The items in lists of about ``size`` meter-days (blocks are not split). The
    file's last list comes in pieces of about a quarter of that: the relay publishes
    each piece while the next is stored, so the end of a large file reaches the bus
    sooner (the relay's work after the last commit is a quarter as long)."""
    pending = iter(items)
    chunk = _take(pending, size)
    while chunk:
        following = next(pending, None)  # one item ahead: is this the last chunk?
        if following is None:
            rest = iter(chunk)
            while piece := _take(rest, size // 4):
                yield piece
            return
        yield chunk
        chunk = [following, *_take(pending, size - _size(following))]


def _take(items: Iterator[StreamItem], size: int) -> list[StreamItem]:
    """The next items, up to the first that makes ``size`` meter-days (at least one item)."""
    taken: list[StreamItem] = []
    n = 0
    for item in items:
        taken.append(item)
        n += _size(item)
        if n >= size:
            break
    return taken


def _size(item: StreamItem) -> int:
    return len(item) if isinstance(item, MeterDayBlock) else 1


def blocks_of(items: list) -> list[MeterDayBlock]:
    """Every meter-day of a chunk in blocks, in file order: bulk blocks as read,
    runs of single meter-days of one period count packed into blocks."""
    blocks: list[MeterDayBlock] = []
    run: list[ParsedMeterDay] = []
    for item in items:
        if isinstance(item, ParsedMeterDay):
            if run and len(run[0].values) != len(item.values):
                blocks.append(MeterDayBlock.of_days(run))
                run = []
            run.append(item)
        elif isinstance(item, MeterDayBlock):
            if run:
                blocks.append(MeterDayBlock.of_days(run))
                run = []
            blocks.append(item)
    if run:
        blocks.append(MeterDayBlock.of_days(run))
    return blocks
