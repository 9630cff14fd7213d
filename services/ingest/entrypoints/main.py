"""The ingest service process: HTTP uploads, the supply-point read model and the
outbox relay (in a child process of its own: see shared.outbox.ProcessRelay)."""
from __future__ import annotations

import asyncio
import logging

from services.ingest import parse_process
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


def build(settings: Settings) -> Service:
    parse_process.tune_gc()  # build() runs once, at the start of the ingest process
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

    async def start_parsing() -> None:
        await asyncio.to_thread(parse_process.start)

    async def stop_parsing() -> None:
        await asyncio.to_thread(parse_process.stop_all)

    return Service(NAME, settings, engine, routers=[router], outbox=relay, status=status,
                   workers=workers, on_start=[start_parsing], on_stop=[stop_parsing])
