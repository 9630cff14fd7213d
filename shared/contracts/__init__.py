"""Event contracts: one pydantic model per versioned topic.

Every topic is listed once in ``TOPICS`` with its key, producers and consumers;
the committed JSON Schemas (``schemas/``) and the AsyncAPI document are generated
from this registry (``meterstream contracts export``) and a test fails when a
model changes incompatibly with its committed schema.
"""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from shared.contracts.events import (
    AccountChanged,
    AqNotification,
    AqResult,
    MeterDayRead,
    Notification,
    PortfolioGroupChanged,
    RegisterRead,
    RejectedRow,
    SupplyPointChanged,
)


@dataclass(frozen=True)
class Topic:
    name: str
    model: type[BaseModel]
    key_field: str
    description: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    partitions: int = 6

    def key_of(self, event: BaseModel) -> bytes:
        return str(getattr(event, self.key_field)).encode()


READS = Topic(
    "meter.reads.v1", MeterDayRead, "mpxn",
    "Accepted half-hourly consumption for one supply point and settlement day. "
    "A later version of the same meter-day supersedes the earlier one.",
    producers=("ingest",), consumers=("portfolio", "alerts", "aq"),
)
REJECTED = Topic(
    "meter.reads.rejected.v1", RejectedRow, "batch_id",
    "A row or meter-day that ingest refused, with its reason.",
    producers=("ingest",), consumers=(),
)
REGISTER_READS = Topic(
    "meter.register-reads.v1", RegisterRead, "mpxn",
    "A gas register (index) read with read date and read type.",
    producers=("ingest",), consumers=("aq",),
)
SUPPLY_POINTS = Topic(
    "portfolio.supply-points.v1", SupplyPointChanged, "mpxn",
    "Reference data: the current state of a supply point, its site, account, "
    "customer and enrolment. Consumers keep a local read model of the latest state.",
    producers=("portfolio",), consumers=("ingest", "alerts", "aq"),
)
ACCOUNTS = Topic(
    "portfolio.accounts.v1", AccountChanged, "account_id",
    "Reference data: the current state of a billing account (rates, budget billing, bill cycle) "
    "and the users who may see it.",
    producers=("portfolio",), consumers=("alerts", "aq"),
)
GROUPS = Topic(
    "portfolio.groups.v1", PortfolioGroupChanged, "group_id",
    "Reference data: users' portfolio groups and their supply points.",
    producers=("portfolio",), consumers=("alerts",),
)
NOTIFICATIONS = Topic(
    "alerts.notifications.v1", Notification, "recipient",
    "A notification decided by alerts, exactly once per rule and period.",
    producers=("alerts",), consumers=("alerts",),
)
AQ_RESULTS = Topic(
    "aq.results.v1", AqResult, "mprn",
    "Outcome of a Rolling AQ calculation or correction for a gas supply meter point.",
    producers=("aq",), consumers=(),
)

AQ_NOTIFICATIONS = Topic(
    "aq.notifications.v1", AqNotification, "mprn",
    "Rolling AQ notifications issued at M-5 and on decisions: T04 (NRL) and TRF rows, "
    "S91 offer addenda, T50/T51 winter consumption and AQ failure notices.",
    producers=("aq",), consumers=(),
)

TOPICS: tuple[Topic, ...] = (
    READS, REJECTED, REGISTER_READS, SUPPLY_POINTS, ACCOUNTS, GROUPS, NOTIFICATIONS, AQ_RESULTS, AQ_NOTIFICATIONS,
)
BY_NAME = {t.name: t for t in TOPICS}
