"""The directory document: customers, accounts, sites, supply points, users,
contacts and groups as one idempotent upsert (demo seeding, CRM migration)."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from shared.auth import Role


class SupplyPointIn(BaseModel):
    mpxn: str = Field(pattern=r"^\d{6,13}$")
    fuel: Literal["electricity", "gas"]
    meter_type: Literal["smart", "amr"]
    profile_class: str | None = Field(None, pattern=r"^0[0-8]$")
    settlement: Literal["nhh", "hh"] = "nhh"
    ldz: str | None = None
    active: bool = True
    registered_on: date | None = None

    @field_validator("mpxn")
    @classmethod
    def _length(cls, v: str) -> str:
        if len(v) not in (6, 7, 8, 9, 10, 13):
            raise ValueError("an MPAN core has 13 digits and an MPRN 6 to 10")
        return v


class SiteIn(BaseModel):
    id: str
    name: str
    postcode: str | None = None
    weather_location: str | None = None
    supply_points: list[SupplyPointIn] = []


class ContactIn(BaseModel):
    id: str
    type: str = Field(description='"General" contacts come from billing records and are read-only in the portal.')
    name: str
    email: str | None = None
    phone: str | None = None


class AccountIn(BaseModel):
    id: str
    name: str
    enrolment_notice_on: date | None = None
    active: bool = True
    bill_cycle_day: int = Field(1, ge=1, le=28, description="Day of the month a bill period starts.")
    has_modelled_rates: bool = Field(False, description="Every charge of the account's tariff is modelled (cost forecasts possible).")
    budget_billing: bool = False
    unit_rate_per_kwh: float | None = Field(None, ge=0)
    standing_charge_per_day: float | None = Field(None, ge=0)
    sites: list[SiteIn] = []
    contacts: list[ContactIn] = []


class CustomerIn(BaseModel):
    id: str
    name: str
    micro_business: bool = False
    accounts: list[AccountIn] = []


class UserIn(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    password: str | None = None
    billing_portal_user: bool = False
    account_ids: list[str] = []


class GroupIn(BaseModel):
    id: str
    owner_user_id: str
    name: str
    site_ids: list[str] = []


class Directory(BaseModel):
    customers: list[CustomerIn] = []
    users: list[UserIn] = []
    groups: list[GroupIn] = []


class DirectoryResult(BaseModel):
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int] = {}
    supply_points_published: int
    accounts_published: int = 0
