"""The aq service process: faust agents over gas reads, supply points and accounts,
the business calendar worker and the outbox relay."""
from __future__ import annotations

import asyncio
import contextlib
import logging

from services.aq import application as app_
from services.aq.adapters import repository as repo
from services.aq.adapters import tables as t
from services.aq.entrypoints.api import AqContext, build_router
from shared import db, readmodel
from shared.bus import EventProducer, decode_all, faust_app, faust_topic, faust_worker
from shared.config import Settings
from shared.contracts import ACCOUNTS, READS, REGISTER_READS, SUPPLY_POINTS
from shared.outbox import OutboxRelay, pending_count
from shared.runtime import Service

NAME = "aq"
log = logging.getLogger(__name__)
#: How often the calendar looks at the clock when nobody wakes it (the date changes at midnight).
CALENDAR_POLL_SECONDS = 30.0


def build(settings: Settings) -> Service:
    engine = db.make_engine(settings.database_url_for(NAME))
    producer = EventProducer(settings, NAME)
    outbox = OutboxRelay(engine, t.outbox, producer)
    reference = app_.ReferenceProvider(engine)
    app = faust_app(NAME, settings)
    calendar_wakeup = asyncio.Event()

    def wake() -> None:
        # Called from request threads: hand the set over to the event loop's thread.
        loop.call_soon_threadsafe(calendar_wakeup.set)

    loop: asyncio.AbstractEventLoop

    def store_reads(events) -> None:
        with engine.begin() as conn:
            repo.store_gas_days(conn, events)

    def store_register_reads(events) -> None:
        with engine.begin() as conn:
            repo.store_register_reads(conn, events)

    def store_supply_points(events) -> None:
        gas = [e for e in events if e.fuel == "gas"]
        while True:  # the calendar may step a point meanwhile: redo the batch on fresh state
            try:
                with engine.begin() as conn:
                    readmodel.apply(conn, t.supply_points, gas)
                    day = app_.business_date(conn, settings)
                    app_.apply_supply_points(conn, gas, day, reference.get(day))
                return
            except repo.StaleState as exc:
                log.info("meter point %s changed concurrently; applying supply points again", exc)

    def store_accounts(events) -> None:
        with engine.begin() as conn:
            repo.apply_accounts(conn, events)

    # concurrency=1: higher concurrency can commit past unprocessed events (platform note).
    @app.agent(faust_topic(app, READS), concurrency=1)
    async def reads(stream):
        async for values in stream.take(500, within=0.5):
            await asyncio.to_thread(store_reads, decode_all(READS, values, NAME))

    @app.agent(faust_topic(app, REGISTER_READS), concurrency=1)
    async def register_reads(stream):
        async for values in stream.take(500, within=0.5):
            await asyncio.to_thread(store_register_reads, decode_all(REGISTER_READS, values, NAME))

    @app.agent(faust_topic(app, SUPPLY_POINTS), concurrency=1)
    async def supply_points(stream):
        async for values in stream.take(500, within=0.5):
            await asyncio.to_thread(store_supply_points, decode_all(SUPPLY_POINTS, values, NAME))
            wake()

    @app.agent(faust_topic(app, ACCOUNTS), concurrency=1)
    async def accounts(stream):
        async for values in stream.take(500, within=0.5):
            await asyncio.to_thread(store_accounts, decode_all(ACCOUNTS, values, NAME))

    def run_calendar() -> int:
        with engine.connect() as conn:
            day = app_.business_date(conn, settings)
        return app_.catch_up(engine, day, reference.get(day))

    async def calendar(stop: asyncio.Event) -> None:
        """Step every meter point through each business day up to the clock, then wait to be woken."""
        while not stop.is_set():
            calendar_wakeup.clear()
            stepped = await asyncio.to_thread(run_calendar)
            if stepped:
                log.info("calendar stepped %d meter points", stepped)
                outbox.wake()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(_first(calendar_wakeup, stop), CALENDAR_POLL_SECONDS)

    async def remember_loop() -> None:
        nonlocal loop
        loop = asyncio.get_running_loop()

    def status() -> dict:
        with engine.connect() as conn:
            day = app_.business_date(conn, settings)
            return {**repo.counts(conn), "business_date": day.isoformat(),
                    "points_behind": len(repo.points_behind(conn, day, limit=1_000_000)),
                    "outbox_pending": pending_count(engine, t.outbox)}

    ctx = AqContext(engine, settings, reference, wake)
    return Service(
        NAME, settings, engine, routers=[build_router(ctx)], producer=producer, outbox=outbox, status=status,
        workers={"faust": faust_worker(app), "calendar": calendar}, on_start=[remember_loop],
    )


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
