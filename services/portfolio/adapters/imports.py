"""Applying a CRM export to the portfolio store (the parsing is domain.crm)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, select

from services.portfolio.adapters import repository as repo
from services.portfolio.adapters import tables as t
from services.portfolio.domain.crm import CrmExport, parse_crm
from services.portfolio.domain.directory import DirectoryResult
from services.portfolio.domain.enrolment import EnrolmentStatus


def read_export(conn: Connection, data: bytes, filename: str, max_content_bytes: int) -> CrmExport:
    """Parse an export against what is stored: users may name stored accounts,
    and must not touch operations users."""
    known = conn.execute(select(t.accounts.c.id)).scalars().all()
    staff = conn.execute(select(t.users.c.email).where(t.users.c.role == "operations")).scalars().all()
    return parse_crm(data, filename, known_accounts=known, operations_emails=staff, max_content_bytes=max_content_bytes)


def apply_export(conn: Connection, export: CrmExport, today: date) -> tuple[DirectoryResult, dict[str, EnrolmentStatus]]:
    """Upsert the export; returns the counts and the enrolment status of each account it carries."""
    users = []
    for u in export.directory.users:
        # People are identified by email: one already known keeps the id they have.
        existing = repo.user_by_email(conn, u.email)
        users.append(u if existing is None else u.model_copy(update={"id": existing.id}))
    result = repo.apply_directory(conn, export.directory.model_copy(update={"users": users}), today)
    return result, repo.account_statuses(conn, set(export.account_ids), today)
