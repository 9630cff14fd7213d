"""Portfolio's data access (SQLAlchemy Core, synchronous; routes and consumers
call it from worker threads)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Connection, and_, func, select, update

from services.portfolio.adapters import tables as t
from services.portfolio.domain.directory import Directory, DirectoryResult
from services.portfolio.domain.enrolment import enrolment_status, opt_out_window_end
from services.portfolio.domain.passwords import hash_password
from shared import db
from shared.auth import Principal
from shared.contracts import SUPPLY_POINTS
from shared.contracts.events import MeterDayRead, SupplyPointChanged
from shared.hh import encode_values
from shared.outbox import enqueue


def visible_accounts(conn: Connection, principal: Principal) -> set[str] | None:
    """Account ids the caller may see; None means every account (operations)."""
    if principal.role == "operations":
        return None
    rows = conn.execute(select(t.user_accounts.c.account_id).where(t.user_accounts.c.user_id == principal.user_id))
    return {r.account_id for r in rows}


def _scoped(query, principal_accounts: set[str] | None):
    return query if principal_accounts is None else query.where(t.accounts.c.id.in_(principal_accounts))


_SITE_COLUMNS = (
    t.supply_points.c.mpxn, t.supply_points.c.fuel, t.supply_points.c.meter_type, t.supply_points.c.profile_class,
    t.supply_points.c.settlement, t.supply_points.c.ldz, t.supply_points.c.active,
    t.sites.c.id.label("site_id"), t.sites.c.name.label("site_name"), t.sites.c.postcode, t.sites.c.weather_location,
    t.accounts.c.id.label("account_id"), t.accounts.c.name.label("account_name"), t.accounts.c.enrolment_notice_on,
    t.accounts.c.opted_out_on, t.customers.c.id.label("customer_id"), t.customers.c.name.label("customer_name"),
    t.customers.c.micro_business,
)


def _site_query():
    return (
        select(*_SITE_COLUMNS)
        .select_from(t.supply_points.join(t.sites).join(t.accounts).join(t.customers))
        .order_by(t.sites.c.name, t.supply_points.c.mpxn)
    )


def list_supply_points(conn: Connection, principal: Principal) -> list:
    return conn.execute(_scoped(_site_query(), visible_accounts(conn, principal))).all()


def supply_point(conn: Connection, principal: Principal, mpxn: str):
    """The supply point if the caller may see it, else None (callers answer 404)."""
    return conn.execute(_scoped(_site_query().where(t.supply_points.c.mpxn == mpxn), visible_accounts(conn, principal))).first()


def account_status(row, today: date) -> str:
    return enrolment_status(
        micro_business=row.micro_business, notice_on=row.enrolment_notice_on, opted_out_on=row.opted_out_on,
        has_contact=True, auto_enrolled=True, today=today,
    )


def meter_days(conn: Connection, mpxns: Iterable[str], first: date, last: date) -> list:
    return conn.execute(
        select(t.meter_days.c.mpxn, t.meter_days.c.settlement_date, t.meter_days.c.kwh, t.meter_days.c.quality)
        .where(and_(t.meter_days.c.mpxn.in_(list(mpxns)), t.meter_days.c.settlement_date.between(first, last)))
    ).all()


def store_reads(conn: Connection, reads: list[MeterDayRead]) -> None:
    """Idempotent: the highest version of each meter-day wins, redeliveries change nothing."""
    latest: dict[tuple[str, date], MeterDayRead] = {}
    for r in reads:
        key = (r.mpxn, r.settlement_date)
        if key not in latest or latest[key].version < r.version:
            latest[key] = r
    db.upsert(
        conn, t.meter_days,
        [
            {
                "mpxn": r.mpxn, "settlement_date": r.settlement_date, "version": r.version,
                "content_hash": r.content_hash, "kwh": encode_values(r.kwh), "quality": r.quality,
                "flags": ",".join(r.flags), "received_at": r.received_at,
            }
            for r in latest.values()
        ],
        keys=["mpxn", "settlement_date"],
        update=["version", "content_hash", "kwh", "quality", "flags", "received_at"],
        newer_than="version",
    )


def counts(conn: Connection) -> dict[str, int]:
    return {
        "meter_days": conn.execute(select(func.count()).select_from(t.meter_days)).scalar_one(),
        "supply_points": conn.execute(select(func.count()).select_from(t.supply_points)).scalar_one(),
    }


def user_by_email(conn: Connection, email: str):
    return conn.execute(select(t.users).where(func.lower(t.users.c.email) == email.lower())).first()


def _upsert_row(conn: Connection, table, row: dict, counters: tuple[dict, dict], kind: str) -> bool:
    """Insert or update one row by primary key; returns True when something changed."""
    pk = [c.name for c in table.primary_key.columns]
    existing = conn.execute(select(table).where(and_(*(table.c[k] == row[k] for k in pk)))).mappings().first()
    created, updated = counters
    if existing is None:
        conn.execute(table.insert().values(**row))
        created[kind] = created.get(kind, 0) + 1
        return True
    changes = {k: v for k, v in row.items() if existing[k] != v}
    if changes:
        conn.execute(update(table).where(and_(*(table.c[k] == row[k] for k in pk))).values(**changes))
        updated[kind] = updated.get(kind, 0) + 1
        return True
    return False


def apply_directory(conn: Connection, doc: Directory, today: date) -> DirectoryResult:
    """Idempotent upsert of a directory document. Supply points whose state
    changed are published (through the outbox) with a new revision."""
    counters: tuple[dict, dict] = ({}, {})
    events: list[SupplyPointChanged] = []
    for c in doc.customers:
        _upsert_row(conn, t.customers, {"id": c.id, "name": c.name, "micro_business": c.micro_business}, counters, "customers")
        for a in c.accounts:
            _upsert_row(conn, t.accounts, {"id": a.id, "customer_id": c.id, "name": a.name,
                                           "enrolment_notice_on": a.enrolment_notice_on}, counters, "accounts")
            for ct in a.contacts:
                _upsert_row(conn, t.contacts, {"id": ct.id, "account_id": a.id, "type": ct.type, "name": ct.name,
                                               "email": ct.email, "phone": ct.phone}, counters, "contacts")
            for s in a.sites:
                _upsert_row(conn, t.sites, {"id": s.id, "account_id": a.id, "name": s.name, "postcode": s.postcode,
                                            "weather_location": s.weather_location}, counters, "sites")
                for sp in s.supply_points:
                    row = {"mpxn": sp.mpxn, "site_id": s.id, "fuel": sp.fuel, "meter_type": sp.meter_type,
                           "profile_class": sp.profile_class, "settlement": sp.settlement, "ldz": sp.ldz,
                           "active": sp.active, "registered_on": sp.registered_on}
                    current = conn.execute(select(t.supply_points.c.revision).where(t.supply_points.c.mpxn == sp.mpxn)).scalar()
                    if _upsert_row(conn, t.supply_points, {**row, "revision": current or 1}, counters, "supply_points"):
                        if current is not None:
                            conn.execute(update(t.supply_points).where(t.supply_points.c.mpxn == sp.mpxn).values(revision=current + 1))
                        events.append(supply_point_event(conn, sp.mpxn, today))
    for u in doc.users:
        existing = user_by_email(conn, u.email)
        row = {"id": u.id, "email": u.email, "name": u.name, "role": u.role, "billing_portal_user": u.billing_portal_user}
        if u.password and (existing is None or existing.password_hash is None):
            row["password_hash"] = hash_password(u.password)
        _upsert_row(conn, t.users, row, counters, "users")
        for account_id in u.account_ids:
            _upsert_row(conn, t.user_accounts, {"user_id": u.id, "account_id": account_id}, counters, "user_accounts")
    for g in doc.groups:
        _upsert_row(conn, t.groups, {"id": g.id, "owner_user_id": g.owner_user_id, "name": g.name}, counters, "groups")
        for site_id in g.site_ids:
            _upsert_row(conn, t.group_sites, {"group_id": g.id, "site_id": site_id}, counters, "group_sites")
    enqueue(conn, t.outbox, SUPPLY_POINTS, events)
    return DirectoryResult(created=counters[0], updated=counters[1], supply_points_published=len(events))


def supply_point_event(conn: Connection, mpxn: str, today: date) -> SupplyPointChanged:
    row = conn.execute(
        select(*_SITE_COLUMNS, t.supply_points.c.revision, t.supply_points.c.registered_on)
        .select_from(t.supply_points.join(t.sites).join(t.accounts).join(t.customers))
        .where(t.supply_points.c.mpxn == mpxn)
    ).one()
    return SupplyPointChanged(
        mpxn=row.mpxn, revision=row.revision, fuel=row.fuel, site_id=row.site_id, site_name=row.site_name,
        account_id=row.account_id, customer_id=row.customer_id, meter_type=row.meter_type,
        profile_class=row.profile_class, settlement=row.settlement, ldz=row.ldz, postcode=row.postcode,
        micro_business=row.micro_business, enrolment_status=account_status(row, today),
        opt_out_window_ends=opt_out_window_end(row.micro_business, row.enrolment_notice_on),
        active=row.active, registered_on=row.registered_on,
    )

