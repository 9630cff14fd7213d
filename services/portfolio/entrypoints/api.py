"""Portfolio's HTTP routes. Public routes live under /api/v1 and are reached
through the gateway, which authenticates the caller and forwards the principal."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from services.portfolio.adapters import repository as repo
from services.portfolio.domain.consumption import GRANULARITIES, aggregate, day_range, hh_frame
from services.portfolio.domain.directory import Directory, DirectoryResult
from services.portfolio.domain.enrolment import data_visible
from services.portfolio.domain.passwords import verify_password
from shared.auth import Principal, current_principal, require_internal, require_role
from shared.hh import LONDON, local_label

router = APIRouter()


def _engine(request: Request):
    return request.app.state.engine


def _today() -> date:
    return datetime.now(LONDON).date()


class LoginIn(BaseModel):
    email: str
    password: str


@router.post("/internal/auth/verify", include_in_schema=False, dependencies=[Depends(require_internal)])
def verify_login(body: LoginIn, request: Request) -> Principal:
    with _engine(request).connect() as conn:
        user = repo.user_by_email(conn, body.email)
    if user is None or not verify_password(body.password, user.password_hash):
        raise HTTPException(401, "wrong email or password")
    return Principal(user_id=user.id, email=user.email, role=user.role, name=user.name)


class SiteOut(BaseModel):
    mpxn: str
    fuel: str
    meter_type: str
    profile_class: str | None
    settlement: str
    ldz: str | None
    site_id: str
    site_name: str
    postcode: str | None
    weather_location: str | None
    account_id: str
    account_name: str
    customer_id: str
    customer_name: str
    enrolment_status: str


@router.get("/api/v1/sites", tags=["sites"], summary="The caller's sites and supply points")
def list_sites(request: Request, principal: Principal = Depends(current_principal)) -> list[SiteOut]:
    today = _today()
    with _engine(request).connect() as conn:
        rows = repo.list_supply_points(conn, principal)
    return [SiteOut(**row._mapping, enrolment_status=repo.account_status(row, today)) for row in rows]


class IntervalOut(BaseModel):
    interval_start: datetime
    interval_end: datetime
    local_start: str
    consumption: float | None
    coverage: float
    estimated: bool


class ConsumptionOut(BaseModel):
    mpxn: str
    fuel: str
    unit: Literal["kWh"] = "kWh"
    granularity: str
    start: datetime
    end: datetime
    total: float | None
    coverage: float
    intervals: list[IntervalOut]


def parse_instant(value: str, name: str) -> datetime:
    """A date (local midnight) or an ISO 8601 date-time (naive = local time)."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=LONDON).astimezone(timezone.utc)
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise HTTPException(422, f"{name}: expected a date (YYYY-MM-DD) or ISO 8601 date-time, got {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LONDON)
    return parsed.astimezone(timezone.utc)


MAX_HH_DAYS = 400


def query_range(start: str, end: str, granularity: str) -> tuple[datetime, datetime]:
    if granularity not in GRANULARITIES:
        raise HTTPException(422, f"granularity must be one of {', '.join(GRANULARITIES)}")
    s, e = parse_instant(start, "start"), parse_instant(end, "end")
    if e <= s:
        raise HTTPException(422, "end must be after start (start inclusive, end exclusive)")
    if s.minute % 30 or e.minute % 30 or s.second or e.second:
        raise HTTPException(422, "start and end must fall on half-hour boundaries")
    if (e - s).days > MAX_HH_DAYS * 5:
        raise HTTPException(422, "range too long: at most five years per request")
    return s, e


@router.get("/api/v1/sites/{mpxn}/consumption", tags=["consumption"], summary="Consumption of one supply point")
def site_consumption(
    mpxn: str,
    request: Request,
    start: Annotated[str, Query(description="Inclusive: YYYY-MM-DD (local midnight) or ISO 8601 date-time")],
    end: Annotated[str, Query(description="Exclusive: YYYY-MM-DD (local midnight) or ISO 8601 date-time")],
    granularity: Annotated[str, Query(description="hh, hour, day, week or month")] = "hh",
    principal: Principal = Depends(current_principal),
) -> ConsumptionOut:
    s, e = query_range(start, end, granularity)
    today = _today()
    with _engine(request).connect() as conn:
        sp = repo.supply_point(conn, principal, mpxn)
        if sp is None:
            raise HTTPException(404, f"no supply point {mpxn} among your sites")
        first, last = day_range(s, e)
        days = repo.meter_days(conn, [mpxn], first, last) if data_visible(repo.account_status(sp, today)) else []
    frame = hh_frame(((d.settlement_date, d.kwh, d.quality) for d in days), s, e)
    intervals = aggregate(frame, granularity)  # type: ignore[arg-type]
    present = frame["kwh"].notna()
    return ConsumptionOut(
        mpxn=mpxn, fuel=sp.fuel, granularity=granularity, start=s, end=e,
        total=float(frame["kwh"].sum()) if present.any() else None,
        coverage=round(float(present.mean()), 4) if len(frame) else 0.0,
        intervals=[IntervalOut(**i.__dict__, local_start=local_label(i.interval_start)) for i in intervals],
    )


@router.put("/api/v1/admin/directory", tags=["operations"], summary="Idempotent upsert of customers, sites, users and groups")
def put_directory(doc: Directory, request: Request, _: Principal = Depends(require_role("operations"))) -> DirectoryResult:
    with _engine(request).begin() as conn:
        result = repo.apply_directory(conn, doc, _today())
    request.app.state.service.outbox.wake()
    return result


@router.get("/api/v1/me", tags=["users"], summary="Who am I")
def me(principal: Principal = Depends(current_principal)) -> Principal:
    return principal
