"""Ingest's HTTP routes (reached through the gateway)."""
from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, ValidationError

from services.ingest import pipeline
from services.ingest.adapters import store
from services.ingest.adapters.profiles import feed_profiles
from services.ingest.domain.model import UnparseableFile
from services.ingest.domain.profiles import FeedProfile
from shared.auth import Principal, require_role
from shared.hh import LONDON

router = APIRouter(tags=["ingest"])
operations = Depends(require_role("operations"))
READ_CHUNK = 1024 * 1024


class Counts(BaseModel):
    rows_read: int
    accepted: int = Field(description="Meter-days that became current (new or revised).")
    revised: int = Field(description="Of the accepted, how many replaced an earlier version.")
    unchanged: int = Field(description="Identical re-sends: nothing stored, nothing published.")
    superseded: int = Field(description="Older revisions that arrived after a newer one: kept for audit only.")
    rejected: int
    flagged: int = Field(description="Accepted but flagged: spike, zero_on_active, estimated.")
    register_reads: int


class BatchOut(BaseModel):
    batch_id: str
    filename: str
    source: str
    status: str
    detected_format: str | None
    error: str | None = None
    received_at: datetime
    completed_at: datetime | None
    bytes: int
    sha256: str
    counts: Counts


def _today() -> date:
    return datetime.now(LONDON).date()


def _profile(request: Request, name: str | None) -> FeedProfile | None:
    if not name:
        return None
    profiles = feed_profiles(request.app.state.settings.feed_profiles_file)
    if name not in profiles:
        raise HTTPException(422, f"unknown feed profile {name!r}; known: {', '.join(sorted(profiles)) or 'none'}")
    return profiles[name]


def _batch_out(row) -> BatchOut:
    return BatchOut(
        batch_id=row["id"], filename=row["filename"], source=row["source"], status=row["status"],
        detected_format=row["detected"], error=row["error"], received_at=row["received_at"],
        completed_at=row["completed_at"], bytes=row["bytes"], sha256=row["sha256"],
        counts=Counts(**{k: row[k] for k in Counts.model_fields}),
    )


def run_ingest(request: Request, data, filename: str, **kwargs) -> BatchOut:
    """Run the pipeline in a worker thread; 422 for a file that cannot be read at all."""
    engine = request.app.state.engine
    try:
        result = pipeline.ingest(engine, data, filename, today=_today(),
                                 on_chunk_stored=request.app.state.service.outbox.wake, **kwargs)
    except UnparseableFile as exc:
        raise HTTPException(422, f"{filename}: {exc.reason}") from exc
    with engine.connect() as conn:
        return _batch_out(store.batch(conn, result.batch_id))


def _limited(upload: UploadFile, limit: int):
    """Read the upload in chunks, refusing (413) past the size limit."""
    seen = 0
    while chunk := upload.file.read(READ_CHUNK):
        seen += len(chunk)
        if seen > limit:
            raise HTTPException(413, f"file over the {limit} byte upload limit")
        yield chunk


@router.post("/api/v1/ingest/files", summary="Upload a D+1 meter data file (CSV, XLSX or JSON)", status_code=201)
async def upload_file(
    request: Request,
    file: Annotated[UploadFile, File(description="The meter data file")],
    profile: Annotated[str | None, Form(description="Name of a feed profile that pins the supplier's format")] = None,
    _: Principal = operations,
) -> BatchOut:
    limit = request.app.state.settings.max_upload_bytes
    feed = _profile(request, profile)
    return await asyncio.to_thread(run_ingest, request, _limited(file, limit), file.filename or "upload",
                                   source="upload", profile=feed)


class OctopusInterval(BaseModel):
    consumption: float | None
    interval_start: datetime
    interval_end: datetime | None = None


class OctopusPush(BaseModel):
    count: int | None = None
    next: str | None = None
    previous: str | None = None
    results: list[OctopusInterval] = Field(max_length=25_000)


@router.post("/api/v1/ingest/push/{mpxn}", summary="Push half-hourly reads in the Octopus-style shape", status_code=201)
async def push_reads(mpxn: str, request: Request, _: Principal = operations) -> BatchOut:
    body = await request.body()
    if len(body) > request.app.state.settings.max_upload_bytes:
        raise HTTPException(413, "body over the upload limit")
    try:
        OctopusPush.model_validate_json(body)
    except ValidationError as exc:
        raise HTTPException(422, f"not an Octopus-style results document: {exc.errors()[0]['msg']}") from exc
    return await asyncio.to_thread(run_ingest, request, body, f"push-{mpxn}.json", source="push", mpxn=mpxn)


@router.get("/api/v1/ingest/batches/{batch_id}", summary="Counts and detected format of a batch")
def get_batch(batch_id: str, request: Request, _: Principal = operations) -> BatchOut:
    with request.app.state.engine.connect() as conn:
        row = store.batch(conn, batch_id)
    if row is None:
        raise HTTPException(404, f"no batch {batch_id}")
    return _batch_out(row)


class RejectionOut(BaseModel):
    row_number: int | None
    mpxn: str | None
    settlement_date: date | None
    reason_code: str
    reason: str


@router.get("/api/v1/ingest/batches/{batch_id}/rejections", summary="Every rejected row of a batch with its reason",
            response_model=list[RejectionOut])
def get_rejections(
    batch_id: str, request: Request,
    format: Annotated[str, Query(pattern="^(json|csv)$", description="json or csv")] = "json",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
    offset: Annotated[int, Query(ge=0)] = 0,
    _: Principal = operations,
):
    with request.app.state.engine.connect() as conn:
        if store.batch(conn, batch_id) is None:
            raise HTTPException(404, f"no batch {batch_id}")
        rows = store.rejections(conn, batch_id, limit, offset)
    if format == "json":
        return [RejectionOut(**r) for r in rows]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row_number", "mpxn", "settlement_date", "reason_code", "reason"])
    writer.writerows([r["row_number"], r["mpxn"], r["settlement_date"], r["reason_code"], r["reason"]] for r in rows)
    return StreamingResponse(iter([out.getvalue()]), media_type="text/csv",
                             headers={"content-disposition": f'attachment; filename="rejections-{batch_id}.csv"'})
