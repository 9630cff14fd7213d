"""The durable side of notifications: idempotency keys and the outbox, the
inbox, per-(notification, channel) delivery records and user preferences."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, func, select, update

from services.alerts.adapters import tables as t
from shared.contracts import NOTIFICATIONS
from shared.contracts.events import Notification
from shared.outbox import enqueue

CHANNELS = ("inbox", "email", "webhook")
DEFAULT_CHANNELS = ("inbox", "email")


def _insert_if_absent(conn: Connection, table, row: dict, keys: list[str]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when this call inserted the row.

    On PostgreSQL a concurrent inserter of the same key waits for the first
    transaction and then finds the conflict, so exactly one caller wins."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = (insert(table).values(**row).on_conflict_do_nothing(index_elements=[table.c[k] for k in keys])
            .returning(table.c[keys[0]]))  # RETURNING, not rowcount: the driver-independent answer
    return conn.execute(stmt).first() is not None


def _row(n: Notification) -> dict:
    return {
        "notification_id": n.notification_id, "kind": n.kind, "recipient": n.recipient, "subject": n.subject,
        "body": n.body, "link": n.link, "created_at": n.created_at, "channels": json.dumps(n.channels),
        "rule_id": n.rule_id, "period": n.period, "sms": n.sms, "email": n.email,
    }


def record(conn: Connection, notification: Notification) -> bool:
    """Keep the notification's idempotency key and enqueue it, in the caller's
    transaction; a key seen before enqueues nothing (returns False)."""
    if not _insert_if_absent(conn, t.notifications, _row(notification), ["notification_id"]):
        return False
    enqueue(conn, t.outbox, NOTIFICATIONS, [notification])
    return True


def sent_keys(conn: Connection, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(conn.execute(select(t.notifications.c.notification_id)
                            .where(t.notifications.c.notification_id.in_(keys))).scalars())


# -- preferences ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preferences:
    user_id: str
    channels: tuple[str, ...]
    webhook_url: str | None
    webhook_secret: str
    unsubscribed: bool
    unsubscribe_token: str

    def active_channels(self) -> list[str]:
        """Unsubscribing stops email and webhooks; the in-app inbox always works."""
        chosen = ["inbox"] if self.unsubscribed else list(self.channels)
        return [c for c in chosen if c != "webhook" or self.webhook_url]


def _prefs(row) -> Preferences:
    return Preferences(row.user_id, tuple(json.loads(row.channels)), row.webhook_url, row.webhook_secret,
                       row.unsubscribed, row.unsubscribe_token)


def preferences(conn: Connection, user_id: str, now: datetime) -> Preferences:
    """The user's preferences, created with the defaults on first use."""
    row = conn.execute(select(t.preferences).where(t.preferences.c.user_id == user_id)).first()
    if row is None:
        _insert_if_absent(conn, t.preferences, {
            "user_id": user_id, "channels": json.dumps(DEFAULT_CHANNELS), "webhook_url": None,
            "webhook_secret": secrets.token_urlsafe(32), "unsubscribed": False,
            "unsubscribe_token": secrets.token_urlsafe(32), "updated_at": now,
        }, ["user_id"])
        row = conn.execute(select(t.preferences).where(t.preferences.c.user_id == user_id)).one()
    return _prefs(row)


def set_preferences(conn: Connection, user_id: str, channels: list[str], webhook_url: str | None,
                    unsubscribed: bool, now: datetime) -> Preferences:
    preferences(conn, user_id, now)
    conn.execute(update(t.preferences).where(t.preferences.c.user_id == user_id).values(
        channels=json.dumps(channels), webhook_url=webhook_url, unsubscribed=unsubscribed, updated_at=now))
    return preferences(conn, user_id, now)


def unsubscribe(conn: Connection, token: str, now: datetime) -> bool:
    result = conn.execute(update(t.preferences).where(t.preferences.c.unsubscribe_token == token)
                          .values(unsubscribed=True, updated_at=now))
    return result.rowcount == 1


def channels_for(conn: Connection, user_id: str, now: datetime) -> list[str]:
    return preferences(conn, user_id, now).active_channels()


# -- deliveries -----------------------------------------------------------------------------------

def accept_for_delivery(conn: Connection, notification: Notification, now: datetime) -> None:
    """Idempotent: the notification row (for producers other than this service)
    and one pending record per channel; the inbox is delivered by existing."""
    _insert_if_absent(conn, t.notifications, _row(notification), ["notification_id"])
    for channel in dict.fromkeys(notification.channels):
        inbox = channel == "inbox"
        _insert_if_absent(conn, t.deliveries, {
            "notification_id": notification.notification_id, "channel": channel,
            "status": "sent" if inbox else "pending", "attempts": 0, "next_attempt_at": now,
            "delivered_at": now if inbox else None, "last_error": None,
        }, ["notification_id", "channel"])


@dataclass(frozen=True)
class PendingDelivery:
    notification: Notification
    channel: str
    attempts: int


def due_deliveries(conn: Connection, now: datetime, limit: int = 200) -> list[PendingDelivery]:
    rows = conn.execute(
        select(t.deliveries.c.channel, t.deliveries.c.attempts, t.notifications)
        .join(t.notifications, t.notifications.c.notification_id == t.deliveries.c.notification_id)
        .where(t.deliveries.c.status == "pending", t.deliveries.c.next_attempt_at <= now)
        .order_by(t.deliveries.c.next_attempt_at).limit(limit)
    ).all()
    return [PendingDelivery(_notification(r), r.channel, r.attempts) for r in rows]


def _notification(r) -> Notification:
    return Notification(
        notification_id=r.notification_id, kind=r.kind, recipient=r.recipient,
        channels=json.loads(r.channels) if r.channels else ["inbox"], subject=r.subject, body=r.body, link=r.link,
        sms=r.sms, email=r.email, rule_id=r.rule_id, period=r.period, created_at=r.created_at,
    )


def _where(d: PendingDelivery):
    # Only the attempt we leased may settle the record: a stale worker changes nothing.
    return and_(t.deliveries.c.notification_id == d.notification.notification_id,
                t.deliveries.c.channel == d.channel, t.deliveries.c.attempts == d.attempts,
                t.deliveries.c.status == "pending")


def claim(conn: Connection, d: PendingDelivery, now: datetime, lease: timedelta) -> bool:
    """Take this attempt for ``lease`` (compare-and-set on the record, atomic in
    SQLite and PostgreSQL): of several instances only one gets True, whatever
    cache they have. A worker that dies holding it is replaced once it expires."""
    claimed = conn.execute(update(t.deliveries).where(_where(d), t.deliveries.c.next_attempt_at <= now)
                           .values(next_attempt_at=now + lease))
    return claimed.rowcount == 1


def settle(conn: Connection, d: PendingDelivery, status: str, now: datetime, error: str | None = None) -> None:
    conn.execute(update(t.deliveries).where(_where(d)).values(
        status=status, attempts=d.attempts + 1, delivered_at=now if status == "sent" else None,
        last_error=error[:500] if error else None))


def retry_later(conn: Connection, d: PendingDelivery, at: datetime, error: str, count_attempt: bool = True) -> None:
    conn.execute(update(t.deliveries).where(_where(d)).values(
        attempts=d.attempts + (1 if count_attempt else 0), next_attempt_at=at, last_error=error[:500]))


# -- inbox ------------------------------------------------------------------------------------------

def inbox(conn: Connection, user_id: str, unread_only: bool, limit: int) -> list:
    query = (
        select(t.notifications)
        .join(t.deliveries, and_(t.deliveries.c.notification_id == t.notifications.c.notification_id,
                                 t.deliveries.c.channel == "inbox"))
        .where(t.notifications.c.recipient == user_id)
    )
    if unread_only:
        query = query.where(t.notifications.c.read_at.is_(None))
    return list(conn.execute(query.order_by(t.notifications.c.created_at.desc(),
                                            t.notifications.c.notification_id).limit(limit)).all())


def mark_read(conn: Connection, user_id: str, notification_id: str, now: datetime) -> bool:
    row = conn.execute(select(t.notifications.c.read_at).where(
        t.notifications.c.notification_id == notification_id, t.notifications.c.recipient == user_id)).first()
    if row is None:
        return False
    if row.read_at is None:
        conn.execute(update(t.notifications).where(t.notifications.c.notification_id == notification_id)
                     .values(read_at=now))
    return True


def delivery_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(t.deliveries.c.channel, t.deliveries.c.status, func.count())
                        .group_by(t.deliveries.c.channel, t.deliveries.c.status)).all()
    return {f"deliveries_{channel}_{status}": n for channel, status, n in rows}


def retry_delay(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """Exponential backoff: base, 2 x base, 4 x base, ... capped."""
    return timedelta(seconds=min(max_seconds, base_seconds * 2 ** attempts))
