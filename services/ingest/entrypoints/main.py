"""The ingest service process: HTTP uploads, the supply-point read model and the
outbox relay (in a child process of its own: see shared.outbox.ProcessRelay)."""
from __future__ import annotations

import asyncio
import gc
import logging

from services.ingest.adapters import publishing, store
from services.ingest.entrypoints.api import router
from services.ingest.entrypoints.dropfolder import watcher
from shared import db
from shared.bus import Envelope, consume_batches
from shared.config import Settings
from shared.contracts import SUPPLY_POINTS
from shared.outbox import ProcessRelay
from shared.runtime import Service

NAME = "ingest"
log = logging.getLogger(__name__)
# A D+1 file allocates millions of short-lived floats, lists and row objects, almost
# none of them in reference cycles: at the default 700 the collector runs thousands
# of times per file for nothing (about 15% of ingest time at 100,000 meters).
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Collect less often, and never re-scan what was loaded at start-up."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def build(settings: Settings) -> Service:
    tune_gc()  # build() runs once, at the start of the ingest process
    engine = db.make_engine(settings.database_url_for(NAME))
    relay = ProcessRelay(settings, NAME, f"{publishing.__name__}:relays")

    def apply(batch: list[Envelope]) -> None:
        with engine.begin() as conn:
            purged = store.apply_supply_points(conn, [env.event for env in batch])
        if purged:
            log.info("purged %d meter-day versions of opted-out supply points", purged)

    async def supply_points(stop: asyncio.Event) -> None:
        async def handle(batch: list[Envelope]) -> None:
            await asyncio.to_thread(apply, batch)

        await consume_batches(settings, NAME, f"meterstream-{NAME}", [SUPPLY_POINTS], handle, stop)

    def status() -> dict:
        with engine.connect() as conn:
            return {**store.counts(conn), "outbox_pending": publishing.pending_count(engine), "published": relay.published}

    workers = {"supply-points": supply_points}
    if settings.ingest_drop_dir:
        workers["drop-folder"] = watcher(engine, settings.ingest_drop_dir, relay.wake)
    return Service(NAME, settings, engine, routers=[router], outbox=relay, status=status,
                   workers=workers)
