"""The CRM migration import (operations): a CSV or ZIP export of customers,
accounts, sites, supply points, contacts, users and brokers, applied as an
idempotent upsert that reports what it changed and which rows it refused."""
from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from services.portfolio.adapters import imports
from services.portfolio.domain.crm import CrmFormatError, CrmTooLarge
from services.portfolio.entrypoints.http import engine, today, wake_outbox
from shared.auth import Principal, require_role

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])


class RefusedRow(BaseModel):
    row: int = Field(description="Line in its file (the header is line 1)")
    record_type: str
    reason: str
    file: str = Field(description="The uploaded CSV, or the CSV inside the ZIP")


class ImportResult(BaseModel):
    dry_run: bool = Field(description="True when nothing was written: the counts say what an import would do")
    rows: int = Field(description="Data rows read")
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
    refused: list[RefusedRow]
    supply_points_published: int
    accounts_published: int
    enrolment: dict[str, str] = Field(description="Enrolment status of each account the export carries")


def _run(request: Request, data: bytes, filename: str, dry_run: bool) -> ImportResult:
    limit = request.app.state.settings.max_upload_bytes
    with engine(request).connect() as conn:
        transaction = conn.begin()
        try:
            export = imports.read_export(conn, data, filename, limit)
            result, enrolment = imports.apply_export(conn, export, today())
            if dry_run:
                transaction.rollback()
            else:
                transaction.commit()
        except CrmTooLarge as exc:
            raise HTTPException(413, str(exc)) from exc
        except CrmFormatError as exc:
            raise HTTPException(422, str(exc)) from exc
        except IntegrityError as exc:
            # Two imports racing on the same new rows: the loser changes nothing and can simply retry.
            raise HTTPException(409, "a concurrent change touched the same records; nothing was imported, retry") from exc
        finally:
            if transaction.is_active:
                transaction.rollback()
    log.info("CRM import of %s (%d rows%s): created %s, updated %s, %d refused", filename, export.rows,
             ", dry run" if dry_run else "", result.created, result.updated, len(export.refused))
    return ImportResult(
        dry_run=dry_run, rows=export.rows, created=result.created, updated=result.updated, unchanged=result.unchanged,
        refused=[RefusedRow(**r.__dict__) for r in export.refused],
        supply_points_published=result.supply_points_published, accounts_published=result.accounts_published,
        enrolment=enrolment,
    )


@router.post("/api/v1/admin/imports/crm", summary="Import a CRM export (CSV with record_type, or ZIP of per-type CSVs)")
async def import_crm(
    request: Request,
    file: Annotated[UploadFile, File(description="One CSV with a record_type column, or a ZIP of customers.csv, "
                                                 "accounts.csv, sites.csv, supply_points.csv, contacts.csv, users.csv, "
                                                 "brokers.csv")],
    dry_run: Annotated[bool, Form(description="Validate and report what would change without writing")] = False,
    _: Principal = Depends(require_role("operations")),
) -> ImportResult:
    limit = request.app.state.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"file over the {limit} byte upload limit")
    result = await asyncio.to_thread(_run, request, data, file.filename or "upload.csv", dry_run)
    if not dry_run:
        wake_outbox(request)
    return result
