"""Delivery of alerts.notifications.v1 through the user's channels.

The consumer (group ``meterstream-alerts-delivery``) only makes each
notification durable with one pending record per channel, then commits; a
sender works off pending records. A record leaves ``pending`` once (sent,
skipped or failed), so a redelivered notification never resends. Two workers
never send the same record at once: each attempt is claimed in the database
(compare-and-set), with a Redis (or in-process) lease in front of it so most
losers do not even reach the database.

The repeat that remains is inherent to SMTP: a sender killed after the server
accepted an email but before its record says so sends that email again after
the lease, with the same Message-ID (receivers drop such duplicates); at most
the sends in flight (``parallel``) are cut that way.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import Engine

from services.alerts.adapters import notifications as notes
from services.alerts.adapters.channels import Channel, DeliveryError
from services.alerts.adapters.clock import Clock, sleep_unless
from shared.bus import Envelope
from shared.cache import KeyValue
from shared.contracts.events import Notification

log = logging.getLogger(__name__)

DELIVERY_GROUP = "meterstream-alerts-delivery"


class Delivery:
    PARALLEL = 8  # sends in flight at once
    def __init__(
        self,
        engine: Engine,
        channels: Mapping[str, Channel],
        kv: KeyValue,
        clock: Clock,
        *,
        max_attempts: int = 8,
        backoff_seconds: float = 2.0,
        max_backoff_seconds: float = 900.0,
        lease_seconds: int = 30,
        per_hour_limit: int = 60,
        parallel: int = PARALLEL,
    ):
        self._engine, self._channels, self._kv, self._clock = engine, dict(channels), kv, clock
        self._max_attempts = max_attempts
        self._backoff, self._max_backoff = backoff_seconds, max_backoff_seconds
        self._lease, self._per_hour = lease_seconds, per_hour_limit
        self._slots = asyncio.Semaphore(parallel)
        self._wake = asyncio.Event()
        self.sent = 0

    def _accept(self, notifications: list[Notification]) -> None:
        with self._engine.begin() as conn:
            for n in notifications:
                notes.accept_for_delivery(conn, n, self._clock.now())

    async def handle(self, batch: list[Envelope]) -> None:
        """Consumer handler: durable before the offsets are committed."""
        await asyncio.to_thread(self._accept, [env.event for env in batch])
        self._wake.set()

    def _due(self) -> list[notes.PendingDelivery]:
        with self._engine.connect() as conn:
            return notes.due_deliveries(conn, self._clock.now())

    async def deliver_due(self) -> int:
        due = await asyncio.to_thread(self._due)
        await asyncio.gather(*(self._deliver(d) for d in due))
        return len(due)

    def _write(self, fn, *args) -> None:
        with self._engine.begin() as conn:
            fn(conn, *args)

    def _claim(self, d: notes.PendingDelivery) -> bool:
        with self._engine.begin() as conn:
            return notes.claim(conn, d, self._clock.now(), timedelta(seconds=self._lease))

    def _prefs(self, user_id: str) -> notes.Preferences:
        with self._engine.begin() as conn:
            return notes.preferences(conn, user_id, self._clock.now())

    async def _deliver(self, d: notes.PendingDelivery) -> None:
        n = d.notification
        if not await self._kv.claim(f"alerts:lease:{n.notification_id}:{d.channel}:{d.attempts}", self._lease):
            return  # another worker holds this attempt
        if not await asyncio.to_thread(self._claim, d):
            return  # another instance holds it (its cache is not ours)
        async with self._slots:
            prefs = await asyncio.to_thread(self._prefs, n.recipient)
            now = self._clock.now()
            channel = self._channels.get(d.channel)
            if channel is None:
                await asyncio.to_thread(self._write, notes.settle, d, "skipped", now, f"{d.channel} channel not configured")
                return
            if d.channel not in prefs.active_channels():
                await asyncio.to_thread(self._write, notes.settle, d, "skipped", now, "unsubscribed or channel turned off")
                return
            if await self._kv.hit(f"alerts:rate:{n.recipient}:{d.channel}", 3600) > self._per_hour:
                later = now + notes.retry_delay(0, 300, 300)
                await asyncio.to_thread(self._write, notes.retry_later, d, later, "rate limited", False)
                return
            try:
                await channel.send(n, prefs)
            except DeliveryError as exc:
                attempt = d.attempts + 1
                if exc.permanent or attempt >= self._max_attempts:
                    log.warning("giving up %s via %s after %d attempts: %s", n.notification_id, d.channel, attempt, exc)
                    await asyncio.to_thread(self._write, notes.settle, d, "failed", now, str(exc))
                else:
                    later = now + notes.retry_delay(d.attempts, self._backoff, self._max_backoff)
                    await asyncio.to_thread(self._write, notes.retry_later, d, later, str(exc))
                return
            await asyncio.to_thread(self._write, notes.settle, d, "sent", self._clock.now())
            self.sent += 1

    async def run_sender(self, stop: asyncio.Event, poll_seconds: float = 1.0) -> None:
        """Send what is due; woken by the consumer, polling for retries."""
        while not stop.is_set():
            self._wake.clear()
            await self.deliver_due()
            await sleep_unless(stop, self._wake, poll_seconds)
