"""Portfolio's data access for the directory, sites, enrolment and reads
(SQLAlchemy Core, synchronous; routes and consumers call it from worker threads)."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, and_, delete, func, or_, select, update

from services.portfolio.adapters import tables as t
from services.portfolio.domain.consumption import empty_month, month_of, patch_month
from services.portfolio.domain.directory import Directory, DirectoryResult
from services.portfolio.domain.enrolment import EnrolmentStatus, enrolment_status, opt_out_window_end
from services.portfolio.domain.passwords import hash_password
from shared import db
from shared.auth import Principal
from shared.contracts import ACCOUNTS, SUPPLY_POINTS
from shared.contracts.events import AccountChanged, AccountUser, MeterDayRead, SupplyPointChanged
from shared.hh import decode_values, encode_values
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


@dataclass(frozen=True)
class SupplyPoint:
    """A supply point with its site, account and the account's enrolment status."""

    mpxn: str
    fuel: str
    meter_type: str
    profile_class: str | None
    settlement: str
    ldz: str | None
    active: bool
    site_id: str
    site_name: str
    postcode: str | None
    weather_location: str | None
    account_id: str
    account_name: str
    customer_id: str
    customer_name: str
    micro_business: bool
    enrolment_status: EnrolmentStatus


def _points(conn: Connection, query, today: date) -> list[SupplyPoint]:
    rows = conn.execute(query).all()
    statuses = account_statuses(conn, {r.account_id for r in rows}, today)
    return [
        SupplyPoint(**{k: v for k, v in r._mapping.items() if k in SupplyPoint.__dataclass_fields__},
                    enrolment_status=statuses[r.account_id])
        for r in rows
    ]


def list_supply_points(conn: Connection, principal: Principal, today: date) -> list[SupplyPoint]:
    return _points(conn, _scoped(_site_query(), visible_accounts(conn, principal)), today)


def supply_point(conn: Connection, principal: Principal, mpxn: str, today: date) -> SupplyPoint | None:
    """The supply point if the caller may see it, else None (callers answer 404)."""
    points = _points(conn, _scoped(_site_query().where(t.supply_points.c.mpxn == mpxn), visible_accounts(conn, principal)), today)
    return points[0] if points else None


def supply_points_of_sites(conn: Connection, site_ids: Iterable[str], today: date) -> list[SupplyPoint]:
    return _points(conn, _site_query().where(t.sites.c.id.in_(list(site_ids))), today)


def account_statuses(conn: Connection, account_ids: set[str] | None, today: date) -> dict[str, EnrolmentStatus]:
    """Enrolment status of each account (None = every account)."""
    accounts = select(t.accounts.c.id, t.accounts.c.enrolment_notice_on, t.accounts.c.opted_out_on,
                      t.customers.c.micro_business).select_from(t.accounts.join(t.customers))
    if account_ids is not None:
        accounts = accounts.where(t.accounts.c.id.in_(account_ids))
    rows = conn.execute(accounts).all()
    ids = [r.id for r in rows]
    with_contact = {r.account_id for r in conn.execute(
        select(t.contacts.c.account_id).where(t.contacts.c.account_id.in_(ids),
                                              or_(t.contacts.c.email.is_not(None), t.contacts.c.phone.is_not(None))))}
    # Billing-portal users and brokers managing the account are enrolled automatically.
    auto = {r.account_id for r in conn.execute(
        select(t.user_accounts.c.account_id).select_from(t.user_accounts.join(t.users))
        .where(t.user_accounts.c.account_id.in_(ids),
               or_(t.users.c.billing_portal_user.is_(True), t.users.c.role == "broker")))}
    return {
        r.id: enrolment_status(micro_business=r.micro_business, notice_on=r.enrolment_notice_on,
                               opted_out_on=r.opted_out_on, has_contact=r.id in with_contact,
                               auto_enrolled=r.id in auto, today=today)
        for r in rows
    }


def meter_days(conn: Connection, mpxns: Iterable[str], first: date, last: date) -> list:
    return conn.execute(
        select(t.meter_days.c.mpxn, t.meter_days.c.settlement_date, t.meter_days.c.kwh, t.meter_days.c.quality)
        .where(and_(t.meter_days.c.mpxn.in_(list(mpxns)), t.meter_days.c.settlement_date.between(first, last)))
        .order_by(t.meter_days.c.mpxn, t.meter_days.c.settlement_date)
    ).all()


def opted_out_mpxns(conn: Connection, mpxns: Iterable[str]) -> set[str]:
    return set(conn.execute(
        select(t.supply_points.c.mpxn).select_from(t.supply_points.join(t.sites).join(t.accounts))
        .where(db.any_of(conn, t.supply_points.c.mpxn, list(mpxns)), t.accounts.c.opted_out_on.is_not(None))
    ).scalars())


_DAY_COLUMNS = ("mpxn", "settlement_date", "version", "content_hash", "kwh", "quality", "flags", "received_at")
_MONTH_COLUMNS = ("mpxn", "month", "stamp", "kwh", "quality")


def store_reads(conn: Connection, reads: list[MeterDayRead]) -> int:
    """Idempotent: the highest version of each meter-day wins, redeliveries change nothing.
    Reads of opted-out accounts are dropped (their data was purged and stays purged).
    The winners are written to meter_days (the version record) and patched into
    their month arrays in the same transaction. Returns how many meter-days were
    offered to the store."""
    latest: dict[tuple[str, date], MeterDayRead] = {}
    for r in reads:
        key = (r.mpxn, r.settlement_date)
        if key not in latest or latest[key].version < r.version:
            latest[key] = r
    dropped = opted_out_mpxns(conn, {mpxn for mpxn, _ in latest})
    offered = {key: r for key, r in latest.items() if r.mpxn not in dropped}
    stored = _stored_versions(conn, offered.keys())
    rows = [  # in key order, so consecutive writes share pages
        (r.mpxn, r.settlement_date, r.version, r.content_hash, encode_values(r.kwh), r.quality, ",".join(r.flags),
         r.received_at)
        for key, r in sorted(offered.items()) if stored.get(key, 0) < r.version
    ]
    # Meter-days new to the store (most of a D+1 file) take the bulk path: should a
    # concurrent writer insert one first, the batch fails and is retried, never
    # overwriting a version it has not seen. Newer versions replace older ones as before.
    db.bulk_insert(conn, t.meter_days, _DAY_COLUMNS, [row for row in rows if row[:2] not in stored])
    db.upsert(conn, t.meter_days, [dict(zip(_DAY_COLUMNS, row)) for row in rows if row[:2] in stored],
              keys=_DAY_COLUMNS[:2], update=_DAY_COLUMNS[2:], newer_than="version")
    _patch_months(conn, rows)
    return len(offered)


def _stored_versions(conn: Connection, keys: Collection[tuple[str, date]]) -> dict[tuple[str, date], int]:
    """The stored version of each meter-day (mpxn, settlement date) that has one."""
    if not keys:
        return {}
    md = t.meter_days.c
    days = {d for _, d in keys}
    rows = conn.execute(select(md.mpxn, md.settlement_date, md.version)
                        .where(db.any_of(conn, md.mpxn, {m for m, _ in keys}),
                               md.settlement_date.between(min(days), max(days))))
    return {(m, d): v for m, d, v in rows if (m, d) in keys}


def _patch_months(conn: Connection, day_rows: list[tuple]) -> None:
    """Write the winning meter-days (tuples in ``_DAY_COLUMNS`` order) over their
    slots in the month arrays. The bus is keyed by supply point, so one consumer
    writes a given point's months; the row lock keeps a second writer (a redelivery
    after a rebalance) from interleaving on PostgreSQL."""
    if not day_rows:
        return
    by_month: dict[tuple[str, date], list] = {}
    for mpxn, day, _, _, kwh, quality, _, _ in day_rows:
        by_month.setdefault((mpxn, month_of(day)), []).append((day, decode_values(kwh), quality))
    mm = t.meter_months.c
    months = {month for _, month in by_month}
    rows = conn.execute(select(mm.mpxn, mm.month, mm.kwh, mm.quality).with_for_update()
                        .where(db.any_of(conn, mm.mpxn, {mpxn for mpxn, _ in by_month}),
                               mm.month.between(min(months), max(months))))
    current = {(m, mo): (decode_values(b), q) for m, mo, b, q in rows if (m, mo) in by_month}
    empty = {month: empty_month(month) for month in months}  # patch_month copies its base: one serves all
    patched = []
    for (mpxn, month), days in by_month.items():
        values, quality = patch_month(*current.get((mpxn, month), empty[month]), month, days)
        patched.append((mpxn, month, secrets.randbits(62), values.astype("<f8", copy=False).tobytes(), quality))
    if conn.dialect.name == "postgresql":
        # unnest() over ~12 KB bytea values is several times slower there than executemany
        db.upsert(conn, t.meter_months, [dict(zip(_MONTH_COLUMNS, m)) for m in patched],
                  keys=_MONTH_COLUMNS[:2], update=_MONTH_COLUMNS[2:])
    else:
        db.bulk_upsert(conn, t.meter_months, _MONTH_COLUMNS, patched, keys=_MONTH_COLUMNS[:2], update=_MONTH_COLUMNS[2:])


def purge_meter_days(conn: Connection, mpxns: Iterable[str]) -> int:
    mpxns = list(mpxns)
    conn.execute(delete(t.meter_months).where(t.meter_months.c.mpxn.in_(mpxns)))
    return conn.execute(delete(t.meter_days).where(t.meter_days.c.mpxn.in_(mpxns))).rowcount


def counts(conn: Connection) -> dict[str, int]:
    return {
        "meter_days": conn.execute(select(func.count()).select_from(t.meter_days)).scalar_one(),
        "supply_points": conn.execute(select(func.count()).select_from(t.supply_points)).scalar_one(),
    }


def user_by_email(conn: Connection, email: str):
    return conn.execute(select(t.users).where(func.lower(t.users.c.email) == email.lower())).first()


Counters = tuple[dict[str, int], dict[str, int], dict[str, int]]


def _upsert_row(conn: Connection, table, row: dict, counters: Counters, kind: str) -> bool:
    """Insert or update one row by primary key; returns True when something changed."""
    pk = [c.name for c in table.primary_key.columns]
    existing = conn.execute(select(table).where(and_(*(table.c[k] == row[k] for k in pk)))).mappings().first()
    created, updated, unchanged = counters
    if existing is None:
        conn.execute(table.insert().values(**row))
        created[kind] = created.get(kind, 0) + 1
        return True
    changes = {k: v for k, v in row.items() if existing[k] != v}
    if changes:
        conn.execute(update(table).where(and_(*(table.c[k] == row[k] for k in pk))).values(**changes))
        updated[kind] = updated.get(kind, 0) + 1
        return True
    unchanged[kind] = unchanged.get(kind, 0) + 1
    return False


def apply_directory(conn: Connection, doc: Directory, today: date) -> DirectoryResult:
    """Idempotent upsert of a directory document. Supply points, accounts and
    groups whose state changed are published (through the outbox) with a new revision."""
    from services.portfolio.adapters.groups import publish_groups  # groups build on this module

    counters: Counters = ({}, {}, {})
    changed_points: list[str] = []
    for c in doc.customers:
        _upsert_row(conn, t.customers, {"id": c.id, "name": c.name, "micro_business": c.micro_business}, counters, "customers")
        for a in c.accounts:
            _upsert_row(conn, t.accounts, {
                "id": a.id, "customer_id": c.id, "name": a.name, "enrolment_notice_on": a.enrolment_notice_on,
                "active": a.active, "bill_cycle_day": a.bill_cycle_day, "has_modelled_rates": a.has_modelled_rates,
                "budget_billing": a.budget_billing, "unit_rate_per_kwh": a.unit_rate_per_kwh,
                "standing_charge_per_day": a.standing_charge_per_day,
            }, counters, "accounts")
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
                        changed_points.append(sp.mpxn)
    for u in doc.users:
        existing = user_by_email(conn, u.email)
        row = {"id": u.id, "email": u.email, "name": u.name, "role": u.role, "billing_portal_user": u.billing_portal_user}
        if u.password and (existing is None or existing.password_hash is None):
            row["password_hash"] = hash_password(u.password)
        _upsert_row(conn, t.users, row, counters, "users")
        for account_id in u.account_ids:
            _upsert_row(conn, t.user_accounts, {"user_id": u.id, "account_id": account_id}, counters, "user_accounts")
    changed_groups = []
    for g in doc.groups:
        changed = _upsert_row(conn, t.groups, {"id": g.id, "owner_user_id": g.owner_user_id, "name": g.name}, counters, "groups")
        for site_id in g.site_ids:
            changed |= _upsert_row(conn, t.group_sites, {"group_id": g.id, "site_id": site_id}, counters, "group_sites")
        if changed:
            changed_groups.append(g.id)
    # Users and contacts change enrolment, so every point is checked, not only those in the document.
    published = republish_supply_points(conn, today, force=changed_points)
    publish_groups(conn, changed_groups)
    accounts = publish_accounts(conn)
    return DirectoryResult(created=counters[0], updated=counters[1], unchanged=counters[2],
                           supply_points_published=published, accounts_published=accounts)


def republish_supply_points(conn: Connection, today: date, force: Iterable[str] = (), mpxns: Iterable[str] | None = None) -> int:
    """Publish each supply point whose state or enrolment status changed (or is in
    ``force``) with a new revision; the last published status is remembered in the
    event content hash kept per point."""
    forced = set(force)
    query = _site_query().add_columns(t.supply_points.c.revision, t.supply_points.c.registered_on)
    if mpxns is not None:
        query = query.where(t.supply_points.c.mpxn.in_(list(mpxns)))
    rows = conn.execute(query).all()
    statuses = account_statuses(conn, {r.account_id for r in rows}, today)
    known = _published_point_status(conn, [r.mpxn for r in rows])
    events = []
    for r in rows:
        status = statuses[r.account_id]
        if r.mpxn not in forced and known.get(r.mpxn) == status:
            continue
        revision = r.revision + 1 if r.mpxn in known else r.revision
        conn.execute(update(t.supply_points).where(t.supply_points.c.mpxn == r.mpxn).values(revision=revision))
        events.append(SupplyPointChanged(
            mpxn=r.mpxn, revision=revision, fuel=r.fuel, site_id=r.site_id, site_name=r.site_name,
            account_id=r.account_id, customer_id=r.customer_id, meter_type=r.meter_type,
            profile_class=r.profile_class, settlement=r.settlement, ldz=r.ldz, postcode=r.postcode,
            micro_business=r.micro_business, enrolment_status=status,
            opt_out_window_ends=opt_out_window_end(r.micro_business, r.enrolment_notice_on),
            active=r.active, registered_on=r.registered_on,
        ))
    _remember_point_status(conn, {e.mpxn: e.enrolment_status for e in events})
    enqueue(conn, t.outbox, SUPPLY_POINTS, events)
    return len(events)


def _published_point_status(conn: Connection, mpxns: list[str]) -> dict[str, str]:
    rows = conn.execute(select(t.published_points.c.mpxn, t.published_points.c.enrolment_status)
                        .where(t.published_points.c.mpxn.in_(mpxns)))
    return {r.mpxn: r.enrolment_status for r in rows}


def _remember_point_status(conn: Connection, statuses: dict[str, str]) -> None:
    db.upsert(conn, t.published_points, [{"mpxn": m, "enrolment_status": s} for m, s in statuses.items()],
              keys=["mpxn"], update=["enrolment_status"])


def account_event_content(conn: Connection, account_id: str) -> dict:
    a = conn.execute(select(t.accounts, t.customers.c.name.label("customer_name"), t.customers.c.micro_business)
                     .select_from(t.accounts.join(t.customers)).where(t.accounts.c.id == account_id)).one()
    users = conn.execute(
        select(t.users.c.id, t.users.c.email, t.users.c.name, t.users.c.role)
        .select_from(t.user_accounts.join(t.users)).where(t.user_accounts.c.account_id == account_id)
        .order_by(t.users.c.id)
    ).all()
    return dict(
        account_id=a.id, customer_id=a.customer_id, customer_name=a.customer_name, account_name=a.name,
        active=a.active and a.opted_out_on is None, micro_business=a.micro_business,
        has_modelled_rates=a.has_modelled_rates, budget_billing=a.budget_billing, bill_cycle_day=a.bill_cycle_day,
        unit_rate_per_kwh=a.unit_rate_per_kwh, standing_charge_per_day=a.standing_charge_per_day,
        users=[AccountUser(user_id=u.id, email=u.email, name=u.name, role=u.role) for u in users],
    )


def publish_accounts(conn: Connection, account_ids: Iterable[str] | None = None) -> int:
    """Publish AccountChanged for every account whose content differs from what
    was last published (a new revision each time); unchanged accounts are skipped."""
    query = select(t.accounts.c.id, t.accounts.c.revision, t.accounts.c.published_hash)
    if account_ids is not None:
        query = query.where(t.accounts.c.id.in_(list(account_ids)))
    events = []
    for a in conn.execute(query.order_by(t.accounts.c.id)).all():
        content = account_event_content(conn, a.id)
        digest = hashlib.sha256(AccountChanged(revision=1, **content).model_dump_json().encode()).hexdigest()
        if digest == a.published_hash:
            continue
        conn.execute(update(t.accounts).where(t.accounts.c.id == a.id).values(revision=a.revision + 1, published_hash=digest))
        events.append(AccountChanged(revision=a.revision + 1, **content))
    enqueue(conn, t.outbox, ACCOUNTS, events)
    return len(events)
