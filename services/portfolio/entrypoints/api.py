"""Portfolio's core HTTP routes: login verification, sites, site consumption and
the directory. Public routes live under /api/v1 and are reached through the
gateway, which authenticates the caller and forwards the principal."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel

from services.portfolio.adapters import repository as repo
from services.portfolio.domain.directory import Directory, DirectoryResult
from services.portfolio.domain.passwords import verify_password
from services.portfolio.entrypoints.api_portfolios import (
    COMPARE, END, GRANULARITY, START, ConsumptionOut, comparison, consumption_response, period_json,
)
from services.portfolio.entrypoints.http import engine, known_id, query_range, today, wake_outbox
from shared.auth import Principal, current_principal, require_internal, require_role

router = APIRouter()


class LoginIn(BaseModel):
    email: str
    password: str


@router.post("/internal/auth/verify", include_in_schema=False, dependencies=[Depends(require_internal)])
def verify_login(body: LoginIn, request: Request) -> Principal:
    with engine(request).connect() as conn:
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


def _site_out(p: repo.SupplyPoint) -> SiteOut:
    return SiteOut(**{k: getattr(p, k) for k in SiteOut.model_fields})


@router.get("/api/v1/sites", tags=["sites"], summary="The caller's sites and supply points")
def list_sites(request: Request, principal: Principal = Depends(current_principal)) -> list[SiteOut]:
    with engine(request).connect() as conn:
        return [_site_out(p) for p in repo.list_supply_points(conn, principal, today())]


def visible_point(conn, principal: Principal, mpxn: str) -> repo.SupplyPoint:
    point = repo.supply_point(conn, principal, known_id(mpxn, "supply point"), today())
    if point is None:
        raise HTTPException(404, f"no supply point {mpxn} among your sites")
    return point


@router.get("/api/v1/sites/{mpxn}/consumption", tags=["consumption"], response_model=ConsumptionOut,
            summary="Consumption of one supply point")
def site_consumption(mpxn: str, request: Request, start: START, end: END, granularity: GRANULARITY = "hh",
                     compare: COMPARE = None, principal: Principal = Depends(current_principal)) -> Response:
    s, e = query_range(start, end, granularity)
    with engine(request).connect() as conn:
        point = visible_point(conn, principal, mpxn)
        current = period_json(conn, [point], s, e, granularity)
        last_year = comparison(conn, [point], s, e, granularity, compare)
    return consumption_response(current, mpxn=mpxn, fuel=point.fuel, granularity=granularity,
                                supply_points_expected=1, last_year=last_year)


@router.put("/api/v1/admin/directory", tags=["operations"], summary="Idempotent upsert of customers, sites, users and groups")
def put_directory(doc: Directory, request: Request, _: Principal = Depends(require_role("operations"))) -> DirectoryResult:
    with engine(request).begin() as conn:
        result = repo.apply_directory(conn, doc, today())
    wake_outbox(request)
    return result


@router.get("/api/v1/me", tags=["users"], summary="Who am I")
def me(principal: Principal = Depends(current_principal)) -> Principal:
    return principal
