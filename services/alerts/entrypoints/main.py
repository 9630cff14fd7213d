"""The alerts service process: faust agents keep the read models and evaluate
trackers on every read batch; a consumer of alerts.notifications.v1 hands
notifications to the delivery sender; a business-clock-driven worker
evaluates High Bill Alerts daily; the outbox relay publishes notifications."""
from __future__ import annotations

import asyncio

from services.alerts import evaluation
from services.alerts.adapters import highbill as hb_store
from services.alerts.adapters import notifications as notes
from services.alerts.adapters import readmodels
from services.alerts.adapters import repository as repo
from services.alerts.adapters import tables as t
from services.alerts.adapters.channels import Channel, EmailChannel, WebhookChannel
from services.alerts.adapters.clock import Clock, SystemClock
from services.alerts.adapters.weather import CompositeTemperatures
from services.alerts.delivery import DELIVERY_GROUP, Delivery
from services.alerts.entrypoints.api import Context, routers
from services.alerts.highbill import HighBillWorker, threshold_settings
from shared import db, readmodel
from shared.bus import EventProducer, consume_batches, decode_all, faust_app, faust_topic, faust_worker
from shared.cache import key_value
from shared.config import Settings
from shared.contracts import ACCOUNTS, GROUPS, NOTIFICATIONS, READS, SUPPLY_POINTS
from shared.outbox import OutboxRelay, pending_count
from shared.runtime import Service
from shared.weather import provider_for

NAME = "alerts"


def channels(settings: Settings) -> dict[str, Channel]:
    """Email only when an SMTP server is configured; webhooks always."""
    found: dict[str, Channel] = {"webhook": WebhookChannel()}
    if settings.smtp_host:
        found["email"] = EmailChannel(settings.smtp_host, settings.smtp_port, settings.smtp_from)
    return found


def build(settings: Settings, clock: Clock | None = None) -> Service:
    clock = clock or SystemClock()
    engine = db.make_engine(settings.database_url_for(NAME))
    producer = EventProducer(settings, NAME)
    relay = OutboxRelay(engine, t.outbox, producer)
    kv = key_value(settings.redis_url, settings.cache_namespace(NAME))
    delivery = Delivery(engine, channels(settings), kv, SystemClock())  # retries run on real time
    high_bill = HighBillWorker(engine, clock, threshold_settings(settings), on_recorded=relay.wake,
                               weather=CompositeTemperatures(provider_for(settings.temperature_provider)))
    app = faust_app(NAME, settings)

    def on_reads(events) -> int:
        with engine.begin() as conn:
            return len(evaluation.on_reads(conn, events, clock.today(), clock.now()))

    def in_transaction(fn, *args) -> None:
        with engine.begin() as conn:
            fn(conn, *args)

    # concurrency=1: higher concurrency can commit past unprocessed events (platform note).
    @app.agent(faust_topic(app, READS), concurrency=1)
    async def reads(stream):
        async for values in stream.take(500, within=0.2):
            if await asyncio.to_thread(on_reads, decode_all(READS, values, NAME)):
                relay.wake()

    @app.agent(faust_topic(app, SUPPLY_POINTS), concurrency=1)
    async def supply_points(stream):
        async for values in stream.take(500, within=0.5):
            await asyncio.to_thread(in_transaction, readmodel.apply, t.supply_points, decode_all(SUPPLY_POINTS, values, NAME))

    @app.agent(faust_topic(app, ACCOUNTS), concurrency=1)
    async def accounts(stream):
        async for values in stream.take(500, within=0.5):
            await asyncio.to_thread(in_transaction, readmodels.apply_accounts, decode_all(ACCOUNTS, values, NAME))
            high_bill.wake()

    @app.agent(faust_topic(app, GROUPS), concurrency=1)
    async def groups(stream):
        async for values in stream.take(500, within=0.5):
            await asyncio.to_thread(in_transaction, readmodels.apply_groups, decode_all(GROUPS, values, NAME))

    async def delivery_consumer(stop: asyncio.Event) -> None:
        await consume_batches(settings, NAME, DELIVERY_GROUP, [NOTIFICATIONS], delivery.handle, stop, max_records=500)

    def status() -> dict:
        with engine.connect() as conn:
            return {
                **repo.counts(conn), **readmodels.counts(conn), **notes.delivery_counts(conn),
                "trackers": repo.tracker_count(conn), "high_bill_decisions": hb_store.decision_count(conn),
                "outbox_pending": pending_count(engine, t.outbox), "published": relay.published,
                "delivered": delivery.sent,
            }

    ctx = Context(engine, clock, settings, notified=relay.wake, thresholds_changed=high_bill.wake)
    return Service(
        NAME, settings, engine, routers=routers(ctx), producer=producer, outbox=relay, status=status,
        workers={"faust": faust_worker(app), "delivery-consumer": delivery_consumer,
                 "delivery-sender": delivery.run_sender, "high-bill": high_bill.run},
        on_stop=[kv.close],
    )
