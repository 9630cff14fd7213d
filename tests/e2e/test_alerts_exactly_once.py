"""Exactly once across a crash: trackers are set, reads are replayed, the
alerts process is SIGKILLed mid-stream and restarted, every read is delivered
again, and every due notification reaches the inbox and a real SMTP server
exactly once - none missed, none doubled."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller

from meterstream.broker import free_port
from meterstream.demo import user_id
from services.alerts.delivery import Delivery
from shared.bus import EventProducer
from shared.contracts import ACCOUNTS, READS
from shared.contracts.events import AccountChanged, AccountUser, MeterDayRead
from shared.hh import periods_in_day
from shared.synthetic.demo import DEMO_EMAIL, demo_dataset
from tests.e2e.conftest import TODAY, start_stack

pytestmark = pytest.mark.e2e
DAYS = [TODAY - timedelta(days=d) for d in range(12, 2, -1)]


class Mailbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture(scope="module")
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield mailbox, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, smtp):
    yield from start_stack(tmp_path_factory, extra_env={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp[1])})


def demo_accounts() -> list[AccountChanged]:
    """What portfolio publishes for the demo accounts: who may see each."""
    dataset = demo_dataset(TODAY)
    customers = {c.customer_id: c for c in dataset.customers}
    events = []
    for a in dataset.accounts:
        users = [AccountUser(user_id=user_id(u.email), email=u.email, role=u.role)
                 for u in dataset.users if a.account_id in u.account_ids]
        events.append(AccountChanged(account_id=a.account_id, revision=1, customer_id=a.customer_id,
                                     customer_name=customers[a.customer_id].name, account_name=a.name, users=users))
    return events


def customer_power_points() -> list[str]:
    dataset = demo_dataset(TODAY)
    mine = next(u for u in dataset.users if u.email == DEMO_EMAIL).account_ids
    return [p.mpxn for s, p in dataset.supply_points()
            if s.account_id in mine and p.spec.fuel == "electricity" and p.settlement == "nhh"][:2]


def reads(mpxns: list[str]) -> list[MeterDayRead]:
    out = []
    for day in DAYS:
        for mpxn in mpxns:
            n = periods_in_day(day)
            out.append(MeterDayRead(event_id=f"{mpxn}:{day}:1", mpxn=mpxn, fuel="electricity", settlement_date=day,
                                    version=1, content_hash="h", kwh=[0.5] * n, quality="A" * n, batch_id="replay",
                                    received_at=datetime.now(timezone.utc)))
    return out


def publish(settings, topic, events) -> None:
    async def send():
        producer = EventProducer(settings, "test")
        await producer.start()
        try:
            await producer.send_many(topic, events)
        finally:
            await producer.stop()

    asyncio.run(send())


def test_kill_and_restart_misses_and_doubles_nothing(stack, smtp):
    mailbox, _ = smtp
    ops, customer = stack.ops, stack.customer
    settings = stack.stack.settings
    mpxns = customer_power_points()
    publish(settings, ACCOUNTS, demo_accounts())
    ops.wait_for(lambda s: s["alerts"]["accounts"] >= 3 and s["alerts"]["supply_points"] >= 8,
                 "alerts to learn the demo accounts")
    for mpxn in mpxns:
        r = customer.http.post("/api/v1/trackers", json={"name": f"Daily {mpxn}", "scope": "site", "scope_id": mpxn,
                                                         "fuel": "electricity", "period": "day", "amount": 1})
        assert r.status_code == 201, r.text
    expected = len(mpxns) * len(DAYS)  # 24 kWh a day against 1 kWh: every day exceeds once

    replay = reads(mpxns)
    half = len(replay) // 2
    publish(settings, READS, replay[:half])
    ops.wait_for(lambda s: s["alerts"]["notifications"] >= 1, "the first notifications")
    stack.stack.kill("alerts")  # SIGKILL mid-stream
    publish(settings, READS, replay[half:])
    stack.stack.start_service("alerts")
    publish(settings, READS, replay)  # everything again: redelivery

    ops.wait_for(lambda s: s["alerts"]["notifications"] >= expected
                 and s["alerts"].get("deliveries_email_sent", 0) >= expected, "every notification delivered",
                 timeout=150)
    deadline = time.monotonic() + 30
    while len(mailbox.messages) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(3)  # room for any late duplicate to show up

    inbox = customer.get("/api/v1/notifications", limit=500)
    ids = sorted(n["notification_id"] for n in inbox)
    assert len(ids) == len(set(ids)) == expected
    assert {n["period"] for n in inbox} == {d.isoformat() for d in DAYS}
    message_ids = [m.content.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0] for m in mailbox.messages]
    assert len(set(message_ids)) == expected  # every notification emailed
    # ... and once, but for the emails the kill cut between the SMTP server's acceptance
    # and their delivery record: no sender can make those two one step, so they go again,
    # with the same Message-ID for the receiver to drop. At most the sends in flight repeat.
    assert len(message_ids) - expected <= Delivery.PARALLEL, len(message_ids)
    status = ops.get("/api/v1/ops/status")["alerts"]
    assert status["notifications"] == expected and status["deliveries_email_sent"] == expected
    assert status["outbox_pending"] == 0
