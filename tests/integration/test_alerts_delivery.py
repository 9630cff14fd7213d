"""Delivery against real servers: email to an in-process aiosmtpd server,
signed webhooks to a local HTTP server (with a failure, retried with backoff),
the in-app inbox; a redelivered notification is never sent twice."""
from __future__ import annotations

import asyncio
import json
import threading
from email import message_from_bytes
from email.policy import default
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient

from meterstream.broker import free_port
from services.alerts.adapters import notifications as notes
from services.alerts.adapters.channels import EmailChannel, WebhookChannel, verify
from services.alerts.adapters.clock import SystemClock
from services.alerts.delivery import Delivery
from services.alerts.entrypoints.api import Context, routers
from shared import db
from shared.auth import Principal
from shared.bus import Envelope
from shared.cache import key_value
from shared.contracts import NOTIFICATIONS
from shared.contracts.events import Notification

pytestmark = pytest.mark.integration
ALEX = Principal(user_id="USR-ALEX", email="alex@example.com", role="customer")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.messages.append(envelope)
        return "250 OK"


class Hooks(BaseHTTPRequestHandler):
    received: list = []
    failures_left = 1

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Hooks.failures_left:
            Hooks.failures_left -= 1
            self.send_response(503)
        else:
            Hooks.received.append((dict(self.headers), body))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def servers():
    smtp = Inbox()
    controller = Controller(smtp, hostname="127.0.0.1", port=free_port())
    controller.start()
    http = ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    Hooks.received, Hooks.failures_left = [], 1
    yield smtp, controller.port, f"http://127.0.0.1:{http.server_port}/hook"
    http.shutdown()
    controller.stop()


def notification(n: int, channels: list[str]) -> Notification:
    return Notification(notification_id=f"tracker_exceeded:T{n}:2024-10", kind="tracker_exceeded",
                        recipient=ALEX.user_id, channels=channels, subject=f"Tracker {n} exceeded", body="Over.",
                        email=ALEX.email, created_at=datetime.now(timezone.utc))


async def test_each_channel_delivers_once_despite_redelivery(settings, servers):
    smtp, smtp_port, hook_url = servers
    url = settings.database_url_for("alerts")
    db.upgrade("alerts", url)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        prefs = notes.set_preferences(conn, ALEX.user_id, ["inbox", "email", "webhook"], hook_url, False,
                                      datetime.now(timezone.utc))
    kv = key_value(settings.redis_url, f"test-{settings.internal_key[-8:]}")
    delivery = Delivery(engine, {"email": EmailChannel("127.0.0.1", smtp_port, "alerts@test"),
                                 "webhook": WebhookChannel()}, kv, SystemClock(), backoff_seconds=0.2)
    batch = [Envelope(NOTIFICATIONS, 0, i, notification(i, ["inbox", "email", "webhook"])) for i in range(3)]
    stop = asyncio.Event()
    sender = asyncio.create_task(delivery.run_sender(stop, poll_seconds=0.1))
    try:
        await delivery.handle(batch)
        await delivery.handle(batch)  # redelivered by the bus
        for _ in range(100):
            if len(smtp.messages) == 3 and len(Hooks.received) == 3:
                break
            await asyncio.sleep(0.1)
        await delivery.handle(batch[:1])  # and again after delivery
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await sender
        await kv.close()

    assert len(smtp.messages) == 3
    assert {m.rcpt_tos[0] for m in smtp.messages} == {ALEX.email}
    email = message_from_bytes(smtp.messages[0].content, policy=default)
    assert email["Message-ID"] and f"token={prefs.unsubscribe_token}" in email.get_content()
    assert len(Hooks.received) == 3  # the 503 was retried once, with backoff
    headers, body = Hooks.received[0]
    assert verify(prefs.webhook_secret, headers["X-Meterstream-Timestamp"], body, headers["X-Meterstream-Signature"])
    assert {json.loads(b)["notification_id"] for _, b in Hooks.received} == {n.event.notification_id for n in batch}
    with engine.connect() as conn:
        counts = notes.delivery_counts(conn)
    assert counts == {"deliveries_email_sent": 3, "deliveries_inbox_sent": 3, "deliveries_webhook_sent": 3}

    # The inbox and the unsubscribe link, through the API.
    ctx = Context(engine, SystemClock(), settings, notified=lambda: None, thresholds_changed=lambda: None)
    app = FastAPI()
    for r in routers(ctx):
        app.include_router(r)
    app.state.settings = settings
    api = TestClient(app)
    api.headers.update({"X-Internal-Token": settings.internal_key, "X-Principal": ALEX.model_dump_json()})
    inbox = api.get("/api/v1/notifications").json()
    assert len(inbox) == 3 and not any(n["read"] for n in inbox)
    assert api.post(f"/api/v1/notifications/{inbox[0]['notification_id']}/read").status_code == 204
    assert len(api.get("/api/v1/notifications", params={"unread_only": True}).json()) == 2
    assert api.post("/api/v1/notifications/nope/read").status_code == 404
    assert api.post("/api/v1/notifications/unsubscribe", params={"token": "x" * 20}).status_code == 404
    assert api.get("/api/v1/notifications/unsubscribe", params={"token": prefs.unsubscribe_token}).status_code == 200
    after = api.get("/api/v1/notifications/preferences").json()
    assert after["unsubscribed"] and after["active_channels"] == ["inbox"]
    bad = api.put("/api/v1/notifications/preferences", json={"channels": ["webhook"]})
    assert bad.status_code == 422
    back = api.put("/api/v1/notifications/preferences", json={"channels": ["email"]}).json()
    assert back["active_channels"] == ["inbox", "email"] and not back["unsubscribed"]
    engine.dispose()


async def test_unsubscribed_user_gets_no_email(settings, servers):
    smtp, smtp_port, _ = servers
    url = settings.database_url_for("alerts")
    db.upgrade("alerts", url)
    engine = db.make_engine(url)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        notes.set_preferences(conn, ALEX.user_id, ["inbox", "email"], None, True, now)
    delivery = Delivery(engine, {"email": EmailChannel("127.0.0.1", smtp_port, "alerts@test")},
                        key_value(None), SystemClock())
    await delivery.handle([Envelope(NOTIFICATIONS, 0, 0, notification(9, ["inbox", "email"]))])
    await delivery.deliver_due()
    assert smtp.messages == []
    with engine.connect() as conn:
        assert notes.delivery_counts(conn) == {"deliveries_email_skipped": 1, "deliveries_inbox_sent": 1}
    engine.dispose()


async def test_two_instances_deliver_each_notification_once(settings, servers):
    """Two alerts instances (separate engines and caches, one database) handling
    the same notifications at the same time - as after a rebalance - send each
    email exactly once."""
    smtp, smtp_port, _ = servers
    url = settings.database_url_for("alerts")
    db.upgrade("alerts", url)
    with db.make_engine(url).begin() as conn:
        notes.set_preferences(conn, ALEX.user_id, ["inbox", "email"], None, False, datetime.now(timezone.utc))
    instances = []
    for _ in range(2):
        engine = db.make_engine(url)
        kv = key_value(settings.redis_url, f"two-{settings.internal_key[-8:]}")
        instances.append((engine, kv, Delivery(engine, {"email": EmailChannel("127.0.0.1", smtp_port, "alerts@test")},
                                                kv, SystemClock(), backoff_seconds=0.2)))
    batch = [Envelope(NOTIFICATIONS, 0, i, notification(100 + i, ["inbox", "email"])) for i in range(20)]
    stop = asyncio.Event()
    senders = [asyncio.create_task(d.run_sender(stop, poll_seconds=0.05)) for _, _, d in instances]
    try:
        await asyncio.gather(*(d.handle(batch) for _, _, d in instances))
        for _ in range(200):
            if len(smtp.messages) >= 20:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # time for any duplicate to show up
    finally:
        stop.set()
        await asyncio.gather(*senders)
        for engine, kv, _ in instances:
            await kv.close()
            engine.dispose()
    subjects = sorted(message_from_bytes(m.content, policy=default)["Subject"] for m in smtp.messages)
    assert subjects == sorted(f"Tracker {100 + i} exceeded" for i in range(20))
