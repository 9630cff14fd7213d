"""The aq service's HTTP routes (reached through the gateway).

Authorisation: operations see and change everything. Customers and brokers may
read a meter point's AQ only when its account (from portfolio.supply-points.v1)
lists them as users (from portfolio.accounts.v1); anything else is a 404, so
the existence of other customers' MPRNs is not revealed.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Callable, Literal, Optional, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Engine

from services.aq import application as app_
from services.aq.adapters import repository as repo
from services.aq.domain.calendar import Confirmation, CorrectionReason, NrlRow, TrfRow, nrl_csv
from services.aq.domain.dates import add_months
from services.aq.domain.overlay import weather_rows
from services.aq.domain.reference import DEFAULT_EUCS, LDZS, parse_alp_daf, parse_weather
from shared.auth import Principal, current_principal, require_role
from shared.config import Settings

Mprn = Annotated[str, Path(pattern=r"^\d{6,10}$", description="Gas MPRN (6-10 digits).")]
operations = require_role("operations")
STALE_RETRIES = 3
T = TypeVar("T")


@dataclass
class AqContext:
    engine: Engine
    settings: Settings
    reference: app_.ReferenceProvider
    wake: Callable[[], None]  # nudges the calendar worker after the clock moved


class MeterPointIn(BaseModel):
    """AQ data of a supply meter point that portfolio does not own; every field optional on update."""

    model_config = ConfigDict(extra="forbid")

    confirmation: Optional[Literal["CO", "LI", "RQ"]] = None
    meter_class: Optional[int] = Field(None, ge=1, le=4)
    ldz: Optional[str] = Field(None, description="Defaults to the supply point's LDZ.")
    euc: Optional[str] = Field(None, description="EUC band code, e.g. 02B; default: the band of the AQ.")
    registered_on: Optional[date] = None
    isolated: Optional[bool] = None
    reconnected_on: Optional[date] = None
    backstop_date: Optional[date] = None
    outstanding_offer: Optional[bool] = None
    confirmed_on: Optional[date] = None
    aq_kwh: Optional[float] = Field(None, ge=0, allow_inf_nan=False)
    formula_year_aq_kwh: Optional[float] = Field(None, ge=0, allow_inf_nan=False)
    soq_kwh: Optional[float] = Field(None, ge=0, allow_inf_nan=False, description="Nominated SOQ (class 1/2); derived for class 3/4.")
    winter_consumption_kwh: Optional[float] = Field(None, ge=0, allow_inf_nan=False)


class MeterPointOut(BaseModel):
    mprn: str
    source: str = Field(description="ops (loaded by operations) or supply_point (defaults from portfolio).")
    active: bool
    processed_through: date = Field(description="The last business day the calendar stepped this point through.")
    confirmation: str
    meter_class: int
    ldz: str
    euc: str
    registered_on: date
    isolated: bool
    backstop_date: Optional[date]
    outstanding_offer: bool
    confirmed_on: Optional[date]
    aq_kwh: float
    formula_year_aq_kwh: float
    soq_kwh: Optional[float]
    winter_consumption_kwh: Optional[float]
    pending_aq_kwh: Optional[float] = Field(description="A calculated AQ waiting for its go-live day.")
    pending_aq_effective_from: Optional[date]


class HistoryEntry(BaseModel):
    kind: str = Field(description="calculated, failed, snapshot, correction_accepted, correction_rejected, "
                                  "T04, TRF, S91, T50 or T51.")
    business_date: date
    effective_from: Optional[date]
    aq_kwh: Optional[float]
    previous_aq_kwh: Optional[float]
    formula_year_aq_kwh: Optional[float]
    soq_kwh: Optional[float]
    euc: Optional[str]
    winter_consumption_kwh: Optional[float]
    reason_code: Optional[str]
    read_start: Optional[date]
    read_end: Optional[date]


class AqHistory(BaseModel):
    mprn: str
    business_date: date
    aq_kwh: float
    formula_year_aq_kwh: float
    euc: str
    soq_kwh: Optional[float]
    history: list[HistoryEntry]


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description=f"One of: {', '.join(r.value for r in CorrectionReason)}.")
    aq_kwh: float = Field(allow_inf_nan=False, description="The corrected AQ (kWh).")


class CorrectionOut(BaseModel):
    correction_id: str
    mprn: str
    reason: str
    aq_kwh: float
    submitted_on: date
    status: Literal["accepted", "rejected"]
    reason_code: str = Field(description="accepted, or why not: unknown_reason, invalid_aq, isolated, "
                                         "new_business_window_expired.")
    effective_from: Optional[date] = Field(description="When an accepted correction becomes the formula-year AQ.")


class ClockOut(BaseModel):
    business_date: date
    points_behind: int = Field(description="Active meter points not yet stepped through the business date.")


class ImportResult(BaseModel):
    created: int
    updated: int


class ReferenceLoadResult(BaseModel):
    rows: int


def _point_out(record: repo.PointRecord) -> MeterPointOut:
    s = record.state
    return MeterPointOut(
        mprn=s.mprn, source=record.source, active=record.active, processed_through=record.processed_through,
        confirmation=s.confirmation.value, meter_class=s.meter_class, ldz=s.ldz, euc=s.euc,
        registered_on=s.registered_on, isolated=s.isolated, backstop_date=s.backstop_date,
        outstanding_offer=s.outstanding_offer, confirmed_on=s.confirmed_on, aq_kwh=s.aq_kwh,
        formula_year_aq_kwh=s.formula_year_aq_kwh, soq_kwh=s.soq_kwh, winter_consumption_kwh=s.winter_consumption_kwh,
        pending_aq_kwh=s.pending_aq.aq_kwh if s.pending_aq else None,
        pending_aq_effective_from=s.pending_aq.effective_from if s.pending_aq else None,
    )


def _month(text: str) -> tuple[date, date]:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise HTTPException(422, f"month must be YYYY-MM, got {text!r}")
    start = date(int(text[:4]), int(text[5:]), 1)
    return start, add_months(start, 1)


async def _text_body(request: Request) -> str:
    try:
        return (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPException(422, "the file is not UTF-8 text") from exc


def build_router(ctx: AqContext) -> APIRouter:
    router = APIRouter(tags=["aq"])

    def today(conn) -> date:
        return app_.business_date(conn, ctx.settings)

    def retrying(change: Callable[[Any], T]) -> T:
        """Run ``change`` in a transaction, again if the calendar worker stepped the point meanwhile."""
        for attempt in range(STALE_RETRIES):
            try:
                with ctx.engine.begin() as conn:
                    return change(conn)
            except repo.StaleState as exc:
                if attempt == STALE_RETRIES - 1:
                    raise HTTPException(409, f"meter point {exc} keeps changing concurrently; retry later") from exc
        raise AssertionError("unreachable")

    def visible_record(conn, mprn: str, principal: Principal) -> repo.PointRecord:
        record = repo.load_point(conn, mprn)
        allowed = principal.role == "operations" or repo.user_may_see(conn, principal.user_id, mprn)
        if record is None or not allowed:
            raise HTTPException(404, f"no gas meter point {mprn} visible to you")
        return record

    @router.put("/api/v1/meter-points/{mprn}", response_model=MeterPointOut,
                summary="Create or update a meter point's AQ data (operations)")
    def put_meter_point(mprn: Mprn, body: MeterPointIn, _: Principal = Depends(operations)) -> MeterPointOut:
        def put(conn):
            day = today(conn)
            return app_.put_point(conn, mprn, body.model_dump(exclude_none=True), day, ctx.reference.get(day))

        try:
            done = retrying(put)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        ctx.wake()
        return _point_out(done.record)

    @router.post("/api/v1/aq/meter-points/import", response_model=ImportResult,
                 summary="Bulk load meter point AQ data from CSV (operations): header mprn plus any PUT field",
                 openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    async def import_meter_points(request: Request, _: Principal = Depends(operations)) -> ImportResult:
        reader = csv.DictReader(io.StringIO(await _text_body(request)))
        unknown = set(reader.fieldnames or ()) - {"mprn", *MeterPointIn.model_fields}
        if not reader.fieldnames or "mprn" not in reader.fieldnames or unknown:
            raise HTTPException(422, f"header needs mprn and only the fields {', '.join(MeterPointIn.model_fields)}"
                                     + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else ""))
        rows, errors = [], []
        for line, raw in enumerate(reader, start=2):
            mprn = (raw.pop("mprn") or "").strip()
            try:
                if not re.fullmatch(r"\d{6,10}", mprn):
                    raise ValueError(f"mprn {mprn!r} is not 6-10 digits")
                rows.append((mprn, MeterPointIn.model_validate({k: v.strip() for k, v in raw.items() if v and v.strip()})))
            except (ValidationError, ValueError) as exc:
                errors.append(f"line {line}: {exc}")
        if errors:
            raise HTTPException(422, {"message": "nothing imported", "errors": errors[:100]})
        created = updated = 0
        try:
            with ctx.engine.begin() as conn:
                day = today(conn)
                reference = ctx.reference.get(day)
                for mprn, body in rows:
                    try:
                        done = app_.put_point(conn, mprn, body.model_dump(exclude_none=True), day, reference)
                    except ValueError as exc:
                        raise HTTPException(422, {"message": "nothing imported", "errors": [f"{mprn}: {exc}"]}) from exc
                    created, updated = created + done.created, updated + (not done.created)
        except repo.StaleState as exc:
            raise HTTPException(409, "a meter point changed concurrently; retry the import") from exc
        ctx.wake()
        return ImportResult(created=created, updated=updated)

    @router.get("/api/v1/meter-points/{mprn}", response_model=MeterPointOut, summary="A meter point's AQ data")
    def get_meter_point(mprn: Mprn, principal: Principal = Depends(current_principal)) -> MeterPointOut:
        with ctx.engine.connect() as conn:
            return _point_out(visible_record(conn, mprn, principal))

    @router.get("/api/v1/meter-points/{mprn}/aq", response_model=AqHistory,
                summary="The AQ in force and every calculation, failure, correction, snapshot and notification")
    def get_aq(mprn: Mprn, principal: Principal = Depends(current_principal)) -> AqHistory:
        with ctx.engine.connect() as conn:
            record = visible_record(conn, mprn, principal)
            rows = repo.history(conn, mprn)
            day = today(conn)
        s = record.state
        return AqHistory(mprn=mprn, business_date=day, aq_kwh=s.aq_kwh, formula_year_aq_kwh=s.formula_year_aq_kwh,
                         euc=s.euc, soq_kwh=s.soq_kwh, history=[HistoryEntry(**r) for r in rows])

    @router.post("/api/v1/meter-points/{mprn}/corrections", response_model=CorrectionOut, status_code=201,
                 summary="Submit an AQ correction (operations); decided at once, accepted or rejected with a reason")
    def post_correction(mprn: Mprn, body: CorrectionIn, principal: Principal = Depends(operations)) -> CorrectionOut:
        def submit(conn):
            day = today(conn)
            return app_.submit_correction(conn, mprn, body.reason, body.aq_kwh, principal.email, day,
                                          ctx.reference.get(day))

        outcome = retrying(submit)
        if outcome is None:
            raise HTTPException(404, f"no gas meter point {mprn}")
        return CorrectionOut(**{k: v for k, v in outcome.__dict__.items() if k != "accepted"},
                             status="accepted" if outcome.accepted else "rejected")

    @router.get("/api/v1/aq/nrl", response_class=PlainTextResponse,
                summary="The NRL-style file (T04 and TRF rows) issued in a month, as CSV (operations)",
                responses={200: {"content": {"text/csv": {}}}})
    def get_nrl(month: Annotated[str, Query(description="YYYY-MM: the month the rows were issued in (M-5).")],
                _: Principal = Depends(operations)) -> PlainTextResponse:
        start, end = _month(month)
        with ctx.engine.connect() as conn:
            rows = repo.nrl_rows(conn, start, end)
        csv_text = nrl_csv(
            (TrfRow if r["kind"] == "TRF" else NrlRow)(
                mprn=r["mprn"], issued_on=r["business_date"], effective_from=r["effective_from"],
                confirmation=Confirmation(r["confirmation"]), meter_class=r["meter_class"], aq_kwh=r["aq_kwh"],
                soq_kwh=r["soq_kwh"], euc=r["euc"], formula_year_aq_kwh=r["formula_year_aq_kwh"],
                winter_consumption_kwh=r["winter_consumption_kwh"])
            for r in rows)
        return PlainTextResponse(csv_text, media_type="text/csv",
                                 headers={"content-disposition": f'attachment; filename="nrl-{month}.csv"'})

    @router.get("/api/v1/aq/clock", response_model=ClockOut, summary="The business clock (operations)")
    def get_clock(_: Principal = Depends(operations)) -> ClockOut:
        with ctx.engine.connect() as conn:
            day = today(conn)
            return ClockOut(business_date=day, points_behind=len(repo.points_behind(conn, day, limit=1_000_000)))

    @router.post("/api/v1/aq/clock/advance", response_model=ClockOut,
                 summary="Move the business clock forward (operations; tests and demos); the calendar catches up")
    def advance_clock(to: Annotated[date, Query(description="YYYY-MM-DD, not before the current business date.")],
                      _: Principal = Depends(operations)) -> ClockOut:
        try:
            with ctx.engine.begin() as conn:
                day = app_.advance_clock(conn, ctx.settings, to)
                behind = len(repo.points_behind(conn, day, limit=1_000_000))
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        ctx.wake()
        return ClockOut(business_date=day, points_behind=behind)

    @router.post("/api/v1/aq/reference/alp-daf", response_model=ReferenceLoadResult,
                 summary='Load ALP/DAF rows in the published layout ("EA:E2201BND",01/10/2022,0.589078,-0.238091)',
                 openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    async def load_alp_daf(request: Request, _: Principal = Depends(operations)) -> ReferenceLoadResult:
        try:
            rows = parse_alp_daf(await _text_body(request))
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        unknown = {f"{r.ldz}:{r.euc}" for r in rows if r.ldz not in LDZS or r.euc not in DEFAULT_EUCS.codes}
        if unknown:
            raise HTTPException(422, f"unknown LDZ or EUC band: {', '.join(sorted(unknown)[:20])}")
        with ctx.engine.begin() as conn:
            count = repo.store_alp_daf(conn, rows)
        ctx.reference.invalidate()
        return ReferenceLoadResult(rows=count)

    @router.post("/api/v1/aq/reference/weather/{kind}", response_model=ReferenceLoadResult,
                 summary="Load composite weather (seasonal normal or actual): header date,<LDZ>,...",
                 openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    async def load_weather(request: Request, kind: Literal["normal", "actual"],
                           _: Principal = Depends(operations)) -> ReferenceLoadResult:
        try:
            series = parse_weather(await _text_body(request))
        except (ValueError, StopIteration) as exc:
            raise HTTPException(422, f"weather file: {exc or 'empty'}") from exc
        if unknown := set(series.ldzs) - set(LDZS):
            raise HTTPException(422, f"unknown LDZ columns: {', '.join(sorted(unknown))}")
        rows = [{"ldz": ldz, "gas_day": day, "cwv": value}
                for ldz, day, value in weather_rows(series.ldzs, series.origin, series.values)]
        with ctx.engine.begin() as conn:
            count = repo.store_weather(conn, kind, rows)
        ctx.reference.invalidate()
        return ReferenceLoadResult(rows=count)

    return router
