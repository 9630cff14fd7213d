"""Users' portfolio groups: storage and their PortfolioGroupChanged events."""
from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Connection, delete, insert, select, update

from services.portfolio.adapters import tables as t
from shared.contracts import GROUPS
from shared.contracts.events import PortfolioGroupChanged
from shared.outbox import enqueue


class GroupError(ValueError):
    """A refused group change; ``status`` is the HTTP status it maps to."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def group_row(conn: Connection, group_id: str, owner_user_id: str | None):
    """The group if it exists and (unless owner is None, for operations) belongs to the owner."""
    query = select(t.groups).where(t.groups.c.id == group_id)
    if owner_user_id is not None:
        query = query.where(t.groups.c.owner_user_id == owner_user_id)
    return conn.execute(query).first()


def groups_of(conn: Connection, owner_user_id: str) -> list:
    return conn.execute(select(t.groups).where(t.groups.c.owner_user_id == owner_user_id).order_by(t.groups.c.name)).all()


def group_site_ids(conn: Connection, group_id: str) -> list[str]:
    return list(conn.execute(select(t.group_sites.c.site_id).where(t.group_sites.c.group_id == group_id)
                             .order_by(t.group_sites.c.site_id)).scalars())


def _check_name(conn: Connection, owner: str, name: str, group_id: str | None = None) -> str:
    name = name.strip()
    if not name:
        raise GroupError(422, "a portfolio group needs a name")
    clash = conn.execute(select(t.groups.c.id).where(t.groups.c.owner_user_id == owner, t.groups.c.name == name)).scalar()
    if clash is not None and clash != group_id:
        raise GroupError(409, f"you already have a portfolio group called {name!r}")
    return name


def _check_sites(site_ids: Iterable[str], visible_sites: set[str]) -> list[str]:
    ids = list(dict.fromkeys(site_ids))
    unknown = [s for s in ids if s not in visible_sites]
    if unknown:
        raise GroupError(404, f"no such site among yours: {', '.join(unknown)}")
    return ids


def create_group(conn: Connection, owner: str, name: str, site_ids: Iterable[str], visible_sites: set[str]) -> str:
    name = _check_name(conn, owner, name)
    ids = _check_sites(site_ids, visible_sites)
    group_id = "PG-" + uuid.uuid4().hex[:12].upper()
    conn.execute(insert(t.groups).values(id=group_id, owner_user_id=owner, name=name, revision=1))
    if ids:
        conn.execute(insert(t.group_sites), [{"group_id": group_id, "site_id": s} for s in ids])
    publish_groups(conn, [group_id], bump=False)
    return group_id


def change_group(conn: Connection, group, *, name: str | None, add: Iterable[str], remove: Iterable[str],
                 visible_sites: set[str]) -> None:
    """Rename and/or add and remove sites; publishes once if anything changed."""
    changed = False
    if name is not None and name.strip() != group.name:
        conn.execute(update(t.groups).where(t.groups.c.id == group.id)
                     .values(name=_check_name(conn, group.owner_user_id, name, group.id)))
        changed = True
    current = set(group_site_ids(conn, group.id))
    new = [s for s in _check_sites(add, visible_sites) if s not in current]
    if new:
        conn.execute(insert(t.group_sites), [{"group_id": group.id, "site_id": s} for s in new])
    gone = [s for s in dict.fromkeys(remove) if s in current]
    if gone:
        conn.execute(delete(t.group_sites).where(t.group_sites.c.group_id == group.id, t.group_sites.c.site_id.in_(gone)))
    if changed or new or gone:
        publish_groups(conn, [group.id])


def delete_group(conn: Connection, group) -> None:
    conn.execute(delete(t.group_sites).where(t.group_sites.c.group_id == group.id))
    conn.execute(delete(t.groups).where(t.groups.c.id == group.id))
    enqueue(conn, t.outbox, GROUPS, [PortfolioGroupChanged(
        group_id=group.id, revision=group.revision + 1, owner_user_id=group.owner_user_id, name=group.name, deleted=True)])


def publish_groups(conn: Connection, group_ids: Iterable[str], bump: bool = True) -> int:
    """Publish the current state of the groups, with a new revision when ``bump``."""
    events = []
    for group_id in group_ids:
        g = conn.execute(select(t.groups).where(t.groups.c.id == group_id)).one()
        revision = g.revision + 1 if bump else g.revision
        conn.execute(update(t.groups).where(t.groups.c.id == group_id).values(revision=revision))
        mpxns = conn.execute(
            select(t.supply_points.c.mpxn).select_from(t.group_sites.join(t.supply_points, t.supply_points.c.site_id == t.group_sites.c.site_id))
            .where(t.group_sites.c.group_id == group_id).order_by(t.supply_points.c.mpxn)
        ).scalars().all()
        events.append(PortfolioGroupChanged(group_id=g.id, revision=revision, owner_user_id=g.owner_user_id,
                                            name=g.name, mpxns=list(mpxns)))
    enqueue(conn, t.outbox, GROUPS, events)
    return len(events)
