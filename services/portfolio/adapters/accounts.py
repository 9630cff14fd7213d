"""Accounts as their users see them: enrolment, opt-out and contacts."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Connection, func, insert, select, update

from services.portfolio.adapters import repository as repo
from services.portfolio.adapters import tables as t
from services.portfolio.domain.enrolment import opt_out_window_end
from shared.auth import Principal


def list_accounts(conn: Connection, principal: Principal, today: date, account_id: str | None = None) -> list[dict]:
    visible = repo.visible_accounts(conn, principal)
    query = (select(t.accounts, t.customers.c.name.label("customer_name"), t.customers.c.micro_business)
             .select_from(t.accounts.join(t.customers)).order_by(t.accounts.c.id))
    if visible is not None:
        query = query.where(t.accounts.c.id.in_(visible))
    if account_id is not None:
        query = query.where(t.accounts.c.id == account_id)
    rows = conn.execute(query).all()
    ids = [r.id for r in rows]
    statuses = repo.account_statuses(conn, set(ids), today)
    sites = dict(conn.execute(select(t.sites.c.account_id, func.count()).where(t.sites.c.account_id.in_(ids))
                              .group_by(t.sites.c.account_id)).tuples().all())
    users: dict[str, list[str]] = {}
    for acc, email in conn.execute(select(t.user_accounts.c.account_id, t.users.c.email)
                                   .select_from(t.user_accounts.join(t.users))
                                   .where(t.user_accounts.c.account_id.in_(ids)).order_by(t.users.c.email)).tuples():
        users.setdefault(acc, []).append(email)
    return [
        dict(id=r.id, name=r.name, customer_id=r.customer_id, customer_name=r.customer_name,
             micro_business=r.micro_business, enrolment_status=statuses[r.id],
             enrolment_notice_on=r.enrolment_notice_on,
             opt_out_window_ends=opt_out_window_end(r.micro_business, r.enrolment_notice_on),
             opted_out_on=r.opted_out_on, site_count=sites.get(r.id, 0), users=users.get(r.id, []),
             bill_cycle_day=r.bill_cycle_day, budget_billing=r.budget_billing, has_modelled_rates=r.has_modelled_rates)
        for r in rows
    ]


def account_mpxns(conn: Connection, account_id: str) -> list[str]:
    return list(conn.execute(select(t.supply_points.c.mpxn).select_from(t.supply_points.join(t.sites))
                             .where(t.sites.c.account_id == account_id)).scalars())


def opt_out(conn: Connection, account_id: str, today: date) -> int:
    """Record the opt-out, purge the account's stored HH data and re-publish its
    supply points (ingest then refuses their data). Returns meter-days purged."""
    conn.execute(update(t.accounts).where(t.accounts.c.id == account_id).values(opted_out_on=today))
    mpxns = account_mpxns(conn, account_id)
    purged = repo.purge_meter_days(conn, mpxns)
    repo.republish_supply_points(conn, today, mpxns=mpxns)
    repo.publish_accounts(conn, [account_id])
    return purged


def contacts_of(conn: Connection, account_ids: set[str] | None, account_id: str | None = None) -> list:
    query = select(t.contacts).order_by(t.contacts.c.account_id, t.contacts.c.id)
    if account_ids is not None:
        query = query.where(t.contacts.c.account_id.in_(account_ids))
    if account_id is not None:
        query = query.where(t.contacts.c.account_id == account_id)
    return conn.execute(query).all()


def contact(conn: Connection, contact_id: str):
    return conn.execute(select(t.contacts).where(t.contacts.c.id == contact_id)).first()


def update_contact(conn: Connection, contact_id: str, changes: dict) -> None:
    if changes:
        conn.execute(update(t.contacts).where(t.contacts.c.id == contact_id).values(**changes))


def add_contact(conn: Connection, account_id: str, values: dict) -> str:
    contact_id = "CON-" + uuid.uuid4().hex[:12].upper()
    conn.execute(insert(t.contacts).values(id=contact_id, account_id=account_id, **values))
    return contact_id
