"""Local read models of portfolio's reference data (accounts, users who may
see them, portfolio groups) and the object-level authorisation built on them.

Each entity keeps its highest revision, so redelivered or reordered events
change nothing; child rows (account users, group members) are replaced only
when their parent's revision actually advanced.
"""
from __future__ import annotations

from sqlalchemy import Connection, delete, func, insert, or_, select

from services.alerts.adapters import tables as t
from shared import db
from shared.auth import Principal
from shared.contracts.events import AccountChanged, PortfolioGroupChanged


def _newest(events, key: str) -> dict:
    latest: dict = {}
    for e in events:
        k = getattr(e, key)
        if k not in latest or latest[k].revision < e.revision:
            latest[k] = e
    return latest


def _advanced(conn: Connection, table, key_col, events: dict) -> list:
    """The events newer than what is stored (to replace their child rows)."""
    stored = dict(conn.execute(select(key_col, table.c.revision).where(key_col.in_(list(events)))).all())
    return [e for k, e in events.items() if stored.get(k, 0) < e.revision]


def apply_accounts(conn: Connection, events: list[AccountChanged]) -> None:
    latest = _newest(events, "account_id")
    advanced = _advanced(conn, t.accounts, t.accounts.c.account_id, latest)
    if not advanced:
        return
    columns = [c.name for c in t.accounts.columns]
    db.upsert(conn, t.accounts, [{c: getattr(e, c) for c in columns} for e in advanced],
              keys=["account_id"], update=columns[1:], newer_than="revision")
    ids = [e.account_id for e in advanced]
    conn.execute(delete(t.account_users).where(t.account_users.c.account_id.in_(ids)))
    users = {(e.account_id, u.user_id): {"account_id": e.account_id, "user_id": u.user_id, "email": u.email.lower(),
                                         "name": u.name, "role": u.role}
             for e in advanced for u in e.users}
    if users:
        conn.execute(insert(t.account_users), list(users.values()))


def apply_groups(conn: Connection, events: list[PortfolioGroupChanged]) -> None:
    latest = _newest(events, "group_id")
    advanced = _advanced(conn, t.groups, t.groups.c.group_id, latest)
    if not advanced:
        return
    db.upsert(conn, t.groups, [
        {"group_id": e.group_id, "revision": e.revision, "owner_user_id": e.owner_user_id, "name": e.name,
         "deleted": e.deleted} for e in advanced
    ], keys=["group_id"], update=["revision", "owner_user_id", "name", "deleted"], newer_than="revision")
    ids = [e.group_id for e in advanced]
    conn.execute(delete(t.group_members).where(t.group_members.c.group_id.in_(ids)))
    members = {(e.group_id, m) for e in advanced if not e.deleted for m in e.mpxns}
    if members:
        conn.execute(insert(t.group_members), [{"group_id": g, "mpxn": m} for g, m in members])


def _user_accounts(user_id: str, email: str):
    return select(t.account_users.c.account_id).where(
        or_(t.account_users.c.user_id == user_id, t.account_users.c.email == email.lower()))


def visible_mpxns(conn: Connection, user_id: str, email: str, role: str, among: list[str] | None = None) -> set[str]:
    """Supply points a user may see: operations all, others those of accounts that list them."""
    query = select(t.supply_points.c.mpxn)
    if role != "operations":
        query = query.where(t.supply_points.c.account_id.in_(_user_accounts(user_id, email)))
    if among is not None:
        query = query.where(t.supply_points.c.mpxn.in_(among))
    return set(conn.execute(query).scalars())


def can_see_mpxn(conn: Connection, principal: Principal, mpxn: str) -> bool:
    return bool(visible_mpxns(conn, principal.user_id, principal.email, principal.role, [mpxn]))


def group(conn: Connection, group_id: str):
    return conn.execute(select(t.groups).where(t.groups.c.group_id == group_id, t.groups.c.deleted.is_(False))).first()


def can_see_group(conn: Connection, principal: Principal, group_id: str) -> bool:
    row = group(conn, group_id)
    return row is not None and (principal.role == "operations" or row.owner_user_id == principal.user_id)


def group_mpxns(conn: Connection, group_id: str) -> list[str]:
    return list(conn.execute(select(t.group_members.c.mpxn).where(t.group_members.c.group_id == group_id)).scalars())


def groups_containing(conn: Connection, mpxns: list[str]) -> dict[str, set[str]]:
    """group id -> the given mpxns it contains (live groups only)."""
    rows = conn.execute(
        select(t.group_members.c.group_id, t.group_members.c.mpxn)
        .join(t.groups, t.groups.c.group_id == t.group_members.c.group_id)
        .where(t.group_members.c.mpxn.in_(mpxns), t.groups.c.deleted.is_(False))
    ).all()
    found: dict[str, set[str]] = {}
    for g, m in rows:
        found.setdefault(g, set()).add(m)
    return found


def accounts_of_user(conn: Connection, principal: Principal) -> list:
    query = select(t.accounts)
    if principal.role != "operations":
        query = query.where(t.accounts.c.account_id.in_(_user_accounts(principal.user_id, principal.email)))
    return list(conn.execute(query.order_by(t.accounts.c.account_id)).all())


def accounts_of_customer(conn: Connection, customer_id: str) -> list:
    return list(conn.execute(select(t.accounts).where(t.accounts.c.customer_id == customer_id)).all())


def account(conn: Connection, account_id: str):
    return conn.execute(select(t.accounts).where(t.accounts.c.account_id == account_id)).first()


def account_recipients(conn: Connection, account_id: str) -> list:
    """The customer users of an account (brokers manage, customers get the bill alert)."""
    return list(conn.execute(select(t.account_users).where(
        t.account_users.c.account_id == account_id, t.account_users.c.role == "customer")).all())


def supply_points_of_accounts(conn: Connection, account_ids: list[str]) -> list:
    return list(conn.execute(select(t.supply_points).where(
        t.supply_points.c.account_id.in_(account_ids), t.supply_points.c.active.is_(True))).all())


def counts(conn: Connection) -> dict[str, int]:
    return {
        "accounts": conn.execute(select(func.count()).select_from(t.accounts)).scalar_one(),
        "groups": conn.execute(select(func.count()).select_from(t.groups)).scalar_one(),
    }


def supply_points_by_mpxn(conn: Connection, mpxns: list[str]) -> list:
    return list(conn.execute(select(t.supply_points).where(t.supply_points.c.mpxn.in_(mpxns))).all())


def accounts_by_ids(conn: Connection, account_ids: list[str]) -> list:
    return list(conn.execute(select(t.accounts).where(t.accounts.c.account_id.in_(account_ids))).all())
