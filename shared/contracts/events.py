"""Pydantic models of the events on the bus.

Evolution rule: a new field must be optional with a default; fields are never
removed, renamed or retyped within a topic version. Consumers ignore unknown
fields so producers can add fields first.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.hh import periods_in_day

Fuel = Literal["electricity", "gas"]


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class MeterDayRead(Event):
    """Half-hourly kWh for one supply point and local settlement day."""

    event_id: str = Field(description="Deterministic id of this meter-day version (mpxn:date:version).")
    mpxn: str = Field(description="MPAN core (13 digits) or MPRN (6-10 digits).")
    fuel: Fuel
    settlement_date: date = Field(description="Local (Europe/London) settlement day.")
    version: int = Field(ge=1, description="Monotonic per meter-day; the highest version wins.")
    content_hash: str = Field(description="Hash of the values and quality; equal hashes mean an identical re-send.")
    kwh: list[Optional[float]] = Field(description="One value per settlement period (46/48/50); null = missing, never filled.")
    quality: str = Field(description="One character per period: A actual, E estimated, - missing.")
    source_unit: Literal["kWh", "Wh", "m3"] = "kWh"
    flags: list[str] = Field(default_factory=list, description="Kept-but-flagged findings: spike, zero_on_active, estimated.")
    batch_id: str
    received_at: datetime

    @model_validator(mode="after")
    def _period_count(self) -> "MeterDayRead":
        expected = periods_in_day(self.settlement_date)
        if len(self.kwh) != expected or len(self.quality) != expected:
            raise ValueError(f"{self.settlement_date} has {expected} periods, got {len(self.kwh)} values")
        return self


class RejectedRow(Event):
    batch_id: str
    row_number: Optional[int] = Field(default=None, description="1-based line or row in the source file.")
    mpxn: Optional[str] = None
    settlement_date: Optional[date] = None
    reason_code: str = Field(description="Machine-readable reason, e.g. period_count, negative_value, unknown_mpxn.")
    reason: str = Field(description="Human-readable reason.")
    rejected_at: datetime


class RegisterRead(Event):
    event_id: str
    mpxn: str
    read_date: date
    register_value: float = Field(description="Meter index reading.")
    unit: Literal["m3", "ft3", "kWh"] = "m3"
    read_type: Literal["actual", "estimated", "customer"] = "actual"
    batch_id: str
    received_at: datetime


class SupplyPointChanged(Event):
    """Latest state of a supply point; consumers keep the highest ``revision``."""

    mpxn: str
    revision: int = Field(ge=1)
    fuel: Fuel
    site_id: str
    site_name: str
    account_id: str
    customer_id: str
    meter_type: Literal["smart", "amr"]
    profile_class: Optional[str] = Field(default=None, description="Elexon profile class 00-08 (power only).")
    settlement: Literal["nhh", "hh"] = "nhh"
    ldz: Optional[str] = Field(default=None, description="Gas local distribution zone, e.g. EA.")
    postcode: Optional[str] = None
    micro_business: bool = False
    enrolment_status: str = "active"
    opt_out_window_ends: Optional[date] = None
    active: bool = True
    registered_on: Optional[date] = None


class AccountUser(Event):
    user_id: str
    email: str
    name: str = ""
    role: str = "customer"


class AccountChanged(Event):
    """Latest state of a billing account and who may see it; keep the highest ``revision``."""

    account_id: str
    revision: int = Field(ge=1)
    customer_id: str
    customer_name: str
    account_name: str
    active: bool = True
    micro_business: bool = False
    has_modelled_rates: bool = False
    budget_billing: bool = False
    bill_cycle_day: int = Field(1, ge=1, le=31, description="Day of the month a bill period starts.")
    currency: str = "GBP"
    unit_rate_per_kwh: Optional[float] = Field(default=None, description="Modelled unit rate, where known.")
    standing_charge_per_day: Optional[float] = None
    users: list[AccountUser] = Field(default_factory=list, description="Users who may see the account (customers and brokers).")


class PortfolioGroupChanged(Event):
    """A user's portfolio group; ``deleted`` groups are removed from read models."""

    group_id: str
    revision: int = Field(ge=1)
    owner_user_id: str
    name: str
    mpxns: list[str] = Field(default_factory=list)
    deleted: bool = False


class Notification(Event):
    notification_id: str = Field(description="Idempotency key: one notification per rule and period.")
    kind: str = Field(description="tracker_exceeded, tracker_projected, high_bill, aq_failure, ...")
    recipient: str = Field(description="User id or email the notification is for.")
    channels: list[str] = Field(default_factory=lambda: ["inbox"])
    subject: str
    body: str
    link: Optional[str] = None
    sms: Optional[str] = Field(default=None, description="The text for SMS (at most 160 characters).")
    email: Optional[str] = Field(default=None, description="The recipient's email address, when known.")
    rule_id: Optional[str] = None
    period: Optional[str] = None
    created_at: datetime


class AqResult(Event):
    event_id: str
    mprn: str
    status: Literal["calculated", "failed", "corrected", "snapshot"]
    reason_code: Optional[str] = None
    aq_kwh: Optional[float] = None
    previous_aq_kwh: Optional[float] = None
    euc: Optional[str] = None
    soq_kwh: Optional[float] = None
    effective_from: Optional[date] = None
    read_start: Optional[date] = None
    read_end: Optional[date] = None
    calculated_on: date


class AqNotification(Event):
    """An industry-style Rolling AQ notification: T04 (NRL) and TRF rows, S91 offer
    addenda, T50/T51 winter consumption outcomes and AQ failure notices."""

    event_id: str = Field(description="Deterministic: mprn:record_type:issued_on.")
    mprn: str
    record_type: Literal["T04", "TRF", "S91", "T50", "T51", "AQ_FAILURE"]
    issued_on: date
    effective_from: Optional[date] = None
    confirmation: Optional[str] = Field(default=None, description="CO, LI or RQ (T04/TRF only).")
    meter_class: Optional[int] = None
    aq_kwh: Optional[float] = None
    soq_kwh: Optional[float] = Field(default=None, description="Derived SOQ for class 3 and 4 points.")
    euc: Optional[str] = None
    formula_year_aq_kwh: Optional[float] = None
    winter_consumption_kwh: Optional[float] = None
    reason_code: Optional[str] = Field(default=None, description="Failure or offer-addendum reason.")
