"""Delivery channels: email over SMTP and signed webhooks.

A channel either returns (delivered) or raises :class:`DeliveryError`, saying
whether a retry could help. Receivers can de-duplicate on the notification id
(the email's Message-ID, the webhook's Idempotency-Key) in the rare case a
crash between sending and recording makes the delivery worker send again.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import smtplib
import time
from email.message import EmailMessage
from typing import Protocol

import httpx

from services.alerts.adapters.notifications import Preferences
from shared.contracts.events import Notification

SIGNATURE_HEADER = "X-Meterstream-Signature"
TIMESTAMP_HEADER = "X-Meterstream-Timestamp"
UNSUBSCRIBE_PATH = "/api/v1/notifications/unsubscribe"


class DeliveryError(RuntimeError):
    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    name: str

    async def send(self, notification: Notification, prefs: Preferences) -> None: ...


def unsubscribe_link(prefs: Preferences) -> str:
    return f"{UNSUBSCRIBE_PATH}?token={prefs.unsubscribe_token}"


def message_id(notification_id: str) -> str:
    return f"<{hashlib.sha256(notification_id.encode()).hexdigest()[:32]}@meterstream>"


class EmailChannel:
    name = "email"

    def __init__(self, host: str, port: int, sender: str, timeout: float = 30.0):
        self._host, self._port, self._sender, self._timeout = host, port, sender, timeout

    def _message(self, n: Notification, prefs: Preferences) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self._sender
        msg["To"] = n.email
        msg["Subject"] = n.subject
        msg["Message-ID"] = message_id(n.notification_id)
        msg["List-Unsubscribe"] = f"<{unsubscribe_link(prefs)}>"
        msg.set_content(f"{n.body}\n\nTo stop these emails: {unsubscribe_link(prefs)}\n")
        return msg

    def _send(self, msg: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            smtp.send_message(msg)

    async def send(self, notification: Notification, prefs: Preferences) -> None:
        if not notification.email:
            raise DeliveryError("no email address for the recipient", permanent=True)
        try:
            await asyncio.to_thread(self._send, self._message(notification, prefs))
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {self._host}:{self._port}: {exc}") from exc


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of ``timestamp.body``; the timestamp lets receivers refuse replays."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(f"sha256={sign(secret, timestamp, body)}", header)


class WebhookChannel:
    name = "webhook"

    def __init__(self, timeout: float = 10.0):
        self._timeout = timeout

    async def send(self, notification: Notification, prefs: Preferences) -> None:
        if not prefs.webhook_url:
            raise DeliveryError("no webhook URL set", permanent=True)
        body = notification.model_dump_json().encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: f"sha256={sign(prefs.webhook_secret, stamp, body)}",
            "Idempotency-Key": notification.notification_id,
        }
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(prefs.webhook_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook unreachable: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 300:
            # Client errors other than timeouts and rate limits will not fix themselves.
            permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
            raise DeliveryError(f"webhook answered {response.status_code}", permanent=permanent)
