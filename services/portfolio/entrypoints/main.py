"""The portfolio service process: HTTP routes, the reads sink and the outbox relay."""
from __future__ import annotations

import asyncio

from services.portfolio.adapters import repository as repo
from services.portfolio.adapters.tables import outbox
from services.portfolio.entrypoints import (
    api, api_accounts, api_expected, api_exports, api_imports, api_portfolios, api_weather,
)
from shared import db
from shared.bus import Envelope, EventProducer, consume_batches
from shared.config import Settings
from shared.contracts import READS
from shared.outbox import OutboxRelay, pending_count
from shared.runtime import Service

NAME = "portfolio"


def build(settings: Settings) -> Service:
    engine = db.make_engine(settings.database_url_for(NAME))
    producer = EventProducer(settings, NAME)
    relay = OutboxRelay(engine, outbox, producer)

    def store(batch: list[Envelope]) -> None:
        with engine.begin() as conn:
            repo.store_reads(conn, [env.event for env in batch])

    async def reads_sink(stop: asyncio.Event) -> None:
        async def handle(batch: list[Envelope]) -> None:
            await asyncio.to_thread(store, batch)

        await consume_batches(settings, NAME, f"meterstream-{NAME}", [READS], handle, stop)

    def status() -> dict:
        with engine.connect() as conn:
            return {**repo.counts(conn), "outbox_pending": pending_count(engine, outbox), "published": relay.published}

    return Service(
        NAME, settings, engine,
        routers=[api.router, api_portfolios.router, api_accounts.router, api_exports.router, api_weather.router,
                 api_expected.router, api_imports.router], producer=producer, outbox=relay, status=status,
        workers={"reads-sink": reads_sink},
    )
