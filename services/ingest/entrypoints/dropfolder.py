"""The watched drop folder for D+1 files.

A file is taken once its size has stopped changing between two polls (so a
file still being copied in is left alone), ingested, and moved to
``processed/`` or, when it cannot be read at all, to ``failed/`` with the
reason beside it. Names starting with '.' or ending in '.part'/'.tmp' are
in-flight uploads and are skipped.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from services.ingest import pipeline
from services.ingest.domain.model import UnparseableFile
from shared.hh import LONDON

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0


def _candidates(folder: Path) -> dict[Path, int]:
    return {
        p: p.stat().st_size for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix not in (".part", ".tmp")
    }


def _move(path: Path, to: Path, prefix: str) -> Path:
    to.mkdir(exist_ok=True)
    target = to / f"{prefix}-{path.name}"
    path.replace(target)
    return target


def process(engine: Engine, path: Path, wake: Callable[[], None] | None = None) -> str:
    """Ingest one dropped file and move it aside; returns where it went. ``wake``
    (the outbox relay's) is called after each stored chunk: it is thread-safe."""
    folder = path.parent
    try:
        with path.open("rb") as fh:
            result = pipeline.ingest(engine, iter(lambda: fh.read(1 << 20), b""), path.name, source="folder",
                                     today=datetime.now(LONDON).date(), on_chunk_stored=wake)
    except UnparseableFile as exc:
        target = _move(path, folder / "failed", datetime.now().strftime("%Y%m%dT%H%M%S"))
        target.with_name(target.name + ".error.txt").write_text(exc.reason + "\n")
        log.warning("drop folder: %s refused: %s", path.name, exc.reason)
        return str(target)
    target = _move(path, folder / "processed", result.batch_id)
    log.info("drop folder: %s -> batch %s %s", path.name, result.batch_id, result.counts.as_dict())
    return str(target)


def watcher(engine: Engine, folder: Path, wake: Callable[[], None]):
    """A runtime worker polling ``folder``; ``wake`` wakes the outbox relay as chunks are stored."""

    async def run(stop: asyncio.Event) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        seen: dict[Path, int] = {}
        while not stop.is_set():
            sizes = await asyncio.to_thread(_candidates, folder)
            for path, size in sorted(sizes.items()):
                if seen.get(path) == size:
                    await asyncio.to_thread(process, engine, path, wake)
            seen = sizes
            try:
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
            except asyncio.TimeoutError:
                pass

    return run
