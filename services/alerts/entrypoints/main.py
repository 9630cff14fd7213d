"""The alerts service process: faust agents over reads and supply points."""
from __future__ import annotations

import asyncio


from services.alerts.adapters import repository as repo
from services.alerts.adapters import tables as t
from shared import db, readmodel
from shared.bus import EventProducer, decode_all, faust_app, faust_topic, faust_worker
from shared.config import Settings
from shared.contracts import READS, SUPPLY_POINTS
from shared.outbox import OutboxRelay
from shared.runtime import Service

NAME = "alerts"


def build(settings: Settings) -> Service:
    engine = db.make_engine(settings.database_url_for(NAME))
    producer = EventProducer(settings, NAME)
    app = faust_app(NAME, settings)

    def store_reads(events) -> None:
        with engine.begin() as conn:
            repo.store_daily_usage(conn, events)

    def store_supply_points(events) -> None:
        with engine.begin() as conn:
            readmodel.apply(conn, t.supply_points, events)

    # concurrency=1: higher concurrency can commit past unprocessed events (platform note).
    @app.agent(faust_topic(app, READS), concurrency=1)
    async def reads(stream):
        async for values in stream.take(500, within=0.5):
            await asyncio.to_thread(store_reads, decode_all(READS, values, NAME))

    @app.agent(faust_topic(app, SUPPLY_POINTS), concurrency=1)
    async def supply_points(stream):
        async for values in stream.take(500, within=0.5):
            await asyncio.to_thread(store_supply_points, decode_all(SUPPLY_POINTS, values, NAME))

    def status() -> dict:
        with engine.connect() as conn:
            return repo.counts(conn)

    return Service(
        NAME, settings, engine, producer=producer,
        outbox=OutboxRelay(engine, t.outbox, producer), status=status,
        workers={"faust": faust_worker(app)},
    )
