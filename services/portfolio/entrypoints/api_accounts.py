"""Account routes: enrolment status, the micro-business opt-out, and contacts
("General" contacts come from billing records: visible but read-only)."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from services.portfolio.adapters import accounts as store
from services.portfolio.adapters import repository as repo
from services.portfolio.domain.enrolment import can_opt_out
from services.portfolio.entrypoints.http import engine, known_id, today, wake_outbox
from shared.auth import Principal, current_principal

router = APIRouter(tags=["accounts"])
READ_ONLY_CONTACT_TYPE = "General"


class AccountOut(BaseModel):
    id: str
    name: str
    customer_id: str
    customer_name: str
    micro_business: bool
    enrolment_status: str = Field(description="active, opt_out_window, awaiting_contact_details or opted_out")
    enrolment_notice_on: date | None
    opt_out_window_ends: date | None
    opted_out_on: date | None
    site_count: int
    users: list[str] = Field(description="Emails of the users who may see the account")
    bill_cycle_day: int
    budget_billing: bool
    has_modelled_rates: bool


class OptOutResult(BaseModel):
    account: AccountOut
    meter_days_purged: int


class ContactOut(BaseModel):
    id: str
    account_id: str
    type: str
    name: str
    email: str | None
    phone: str | None
    editable: bool


class ContactChange(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(None, max_length=40)


class ContactNew(ContactChange):
    name: str = Field(min_length=1, max_length=200)
    type: str = Field("Site", min_length=1, max_length=20)


def _account(conn, principal: Principal, account_id: str) -> dict:
    found = store.list_accounts(conn, principal, today(), known_id(account_id, "account"))
    if not found:
        raise HTTPException(404, f"no account {account_id} among yours")
    return found[0]


def _contact_out(row) -> ContactOut:
    return ContactOut(id=row.id, account_id=row.account_id, type=row.type, name=row.name, email=row.email,
                      phone=row.phone, editable=row.type != READ_ONLY_CONTACT_TYPE)


@router.get("/api/v1/accounts", summary="Your accounts with their enrolment status")
def list_accounts(request: Request, principal: Principal = Depends(current_principal)) -> list[AccountOut]:
    with engine(request).connect() as conn:
        return [AccountOut(**a) for a in store.list_accounts(conn, principal, today())]


@router.get("/api/v1/accounts/{account_id}", summary="One account with its enrolment status")
def get_account(account_id: str, request: Request, principal: Principal = Depends(current_principal)) -> AccountOut:
    with engine(request).connect() as conn:
        return AccountOut(**_account(conn, principal, account_id))


@router.post("/api/v1/accounts/{account_id}/opt-out",
             summary="Micro-business opt-out of HH data (within the 7-day window): hides and purges the data")
def opt_out(account_id: str, request: Request, principal: Principal = Depends(current_principal)) -> OptOutResult:
    with engine(request).begin() as conn:
        account = _account(conn, principal, account_id)
        if not can_opt_out(account["enrolment_status"]):
            raise HTTPException(409, f"account {account_id} is {account['enrolment_status']}: opting out is possible "
                                     "only for a micro-business inside its 7-day window")
        purged = store.opt_out(conn, account_id, today())
        out = OptOutResult(account=AccountOut(**_account(conn, principal, account_id)), meter_days_purged=purged)
    wake_outbox(request)
    return out


@router.get("/api/v1/contacts", tags=["contacts"], summary="Contacts of your accounts")
def list_contacts(request: Request, principal: Principal = Depends(current_principal)) -> list[ContactOut]:
    with engine(request).connect() as conn:
        return [_contact_out(c) for c in store.contacts_of(conn, repo.visible_accounts(conn, principal))]


@router.get("/api/v1/accounts/{account_id}/contacts", tags=["contacts"], summary="Contacts of one account")
def account_contacts(account_id: str, request: Request, principal: Principal = Depends(current_principal)) -> list[ContactOut]:
    with engine(request).connect() as conn:
        _account(conn, principal, account_id)
        return [_contact_out(c) for c in store.contacts_of(conn, None, account_id)]


@router.post("/api/v1/accounts/{account_id}/contacts", tags=["contacts"], status_code=201,
             summary="Add a contact (gives an account awaiting contact details somebody to reach)")
def add_contact(account_id: str, body: ContactNew, request: Request,
                principal: Principal = Depends(current_principal)) -> ContactOut:
    if body.type == READ_ONLY_CONTACT_TYPE:
        raise HTTPException(403, "General contacts come from billing records and cannot be created in the portal")
    with engine(request).begin() as conn:
        _account(conn, principal, account_id)
        contact_id = store.add_contact(conn, account_id, body.model_dump())
        repo.republish_supply_points(conn, today(), mpxns=store.account_mpxns(conn, account_id))
        out = _contact_out(store.contact(conn, contact_id))
    wake_outbox(request)
    return out


@router.patch("/api/v1/contacts/{contact_id}", tags=["contacts"], summary="Edit a contact (General contacts are read-only)")
def edit_contact(contact_id: str, body: ContactChange, request: Request,
                 principal: Principal = Depends(current_principal)) -> ContactOut:
    with engine(request).begin() as conn:
        row = store.contact(conn, known_id(contact_id, "contact"))
        visible = repo.visible_accounts(conn, principal)
        if row is None or (visible is not None and row.account_id not in visible):
            raise HTTPException(404, f"no contact {contact_id} among yours")
        if row.type == READ_ONLY_CONTACT_TYPE:
            raise HTTPException(403, "General contacts come from billing records: visible here but read-only")
        changes = body.model_dump(exclude_unset=True)
        if "name" in changes and changes["name"] is None:
            raise HTTPException(422, "a contact needs a name")
        store.update_contact(conn, contact_id, changes)
        out = _contact_out(store.contact(conn, contact_id))
    return out
