"""Portfolio routes: users' groups (create, rename, add/remove sites, delete),
the implicit "All sites" portfolio, consumption with coverage and missing sites."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import numpy as np
import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from services.portfolio.adapters import groups as group_store
from services.portfolio.adapters import portfolios
from services.portfolio.domain.consumption import aggregate_columns, local_labels, shift_year, totals
from services.portfolio.domain.portfolio import (
    ALL_SITES, REASON_TEXT, FuelChoiceError, choose_fuel, fuels, missing_reason, onboarded,
)
from services.portfolio.entrypoints.http import engine, known_id, query_range, today, wake_outbox
from shared.auth import Principal, current_principal

router = APIRouter(tags=["portfolios"])

START = Annotated[str, Query(description="Inclusive: YYYY-MM-DD (local midnight) or ISO 8601 date-time")]
END = Annotated[str, Query(description="Exclusive: YYYY-MM-DD (local midnight) or ISO 8601 date-time")]
GRANULARITY = Annotated[str, Query(description="hh, hour, day, week or month")]
FUEL = Annotated[str | None, Query(description="electricity or gas; required only when the portfolio holds both")]
COMPARE = Annotated[Literal["last_year"] | None, Query(description="last_year adds the same period a year earlier")]


class PortfolioOut(BaseModel):
    id: str
    name: str
    kind: Literal["group", "all"]
    editable: bool
    site_ids: list[str]
    site_count: int
    supply_point_count: int
    fuels: list[str] = Field(description="Fuels the portfolio holds; `fuel` is needed on queries only when there are two.")


class GroupIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    site_ids: list[str] = []


class GroupChange(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=120)
    add_site_ids: list[str] = []
    remove_site_ids: list[str] = []


def _out(p: portfolios.Portfolio) -> PortfolioOut:
    return PortfolioOut(id=p.id, name=p.name, kind=p.kind, editable=p.kind == "group", site_ids=p.site_ids,
                        site_count=len(p.site_ids), supply_point_count=len(p.points), fuels=fuels(p.points))


def _resolve(conn, principal: Principal, portfolio_id: str) -> portfolios.Portfolio:
    p = portfolios.resolve(conn, principal, known_id(portfolio_id, "portfolio"), today())
    if p is None:
        raise HTTPException(404, f"no portfolio {portfolio_id} among yours")
    return p


@router.get("/api/v1/portfolios", summary="Your portfolio groups, plus 'All sites' when you have more than one site")
def list_portfolios(request: Request, principal: Principal = Depends(current_principal)) -> list[PortfolioOut]:
    with engine(request).connect() as conn:
        out = [_out(all_sites)] if len((all_sites := portfolios.all_sites(conn, principal, today())).site_ids) > 1 else []
        for g in group_store.groups_of(conn, principal.user_id):
            out.append(_out(_resolve(conn, principal, g.id)))
    return out


@router.post("/api/v1/portfolios", status_code=201, summary="Create a portfolio group from sites you can see")
def create_portfolio(body: GroupIn, request: Request, principal: Principal = Depends(current_principal)) -> PortfolioOut:
    with engine(request).begin() as conn:
        visible = portfolios.visible_site_ids(conn, principal, today())
        try:
            group_id = group_store.create_group(conn, principal.user_id, body.name, body.site_ids, visible)
        except group_store.GroupError as exc:
            raise HTTPException(exc.status, str(exc)) from exc
        out = _out(_resolve(conn, principal, group_id))
    wake_outbox(request)
    return out


@router.get("/api/v1/portfolios/{portfolio_id}", summary="A portfolio: its sites and the fuels it holds")
def get_portfolio(portfolio_id: str, request: Request, principal: Principal = Depends(current_principal)) -> PortfolioOut:
    with engine(request).connect() as conn:
        return _out(_resolve(conn, principal, portfolio_id))


def _own_group(conn, principal: Principal, portfolio_id: str):
    if portfolio_id == ALL_SITES:
        raise HTTPException(409, "'All sites' is implicit: it cannot be renamed, edited or deleted")
    group = group_store.group_row(conn, known_id(portfolio_id, "portfolio group"), principal.user_id)
    if group is None:
        raise HTTPException(404, f"no portfolio group {portfolio_id} among yours")
    return group


@router.patch("/api/v1/portfolios/{portfolio_id}", summary="Rename a group and/or add and remove sites")
def change_portfolio(portfolio_id: str, body: GroupChange, request: Request,
                     principal: Principal = Depends(current_principal)) -> PortfolioOut:
    with engine(request).begin() as conn:
        group = _own_group(conn, principal, portfolio_id)
        visible = portfolios.visible_site_ids(conn, principal, today())
        try:
            group_store.change_group(conn, group, name=body.name, add=body.add_site_ids, remove=body.remove_site_ids,
                                     visible_sites=visible)
        except group_store.GroupError as exc:
            raise HTTPException(exc.status, str(exc)) from exc
        out = _out(_resolve(conn, principal, portfolio_id))
    wake_outbox(request)
    return out


@router.delete("/api/v1/portfolios/{portfolio_id}", status_code=204, summary="Delete a portfolio group")
def delete_portfolio(portfolio_id: str, request: Request, principal: Principal = Depends(current_principal)) -> Response:
    with engine(request).begin() as conn:
        group_store.delete_group(conn, _own_group(conn, principal, portfolio_id))
    wake_outbox(request)
    return Response(status_code=204)


class IntervalOut(BaseModel):
    interval_start: datetime
    interval_end: datetime
    local_start: str = Field(description="interval_start in Europe/London with its offset")
    consumption: float | None = Field(description="kWh; null where no supply point had data (gaps are never filled)")
    coverage: float = Field(description="Share of the expected supply-point periods that had data")
    estimated: bool


class PeriodOut(BaseModel):
    start: datetime
    end: datetime
    total: float | None
    coverage: float
    intervals: list[IntervalOut]


class ConsumptionOut(PeriodOut):
    portfolio_id: str | None = None
    mpxn: str | None = None
    fuel: str | None
    unit: Literal["kWh"] = "kWh"
    granularity: str
    supply_points_expected: int = Field(description="Supply points of this fuel the figures should cover")
    last_year: PeriodOut | None = Field(None, description="The same period a year earlier (compare=last_year)")


def period(conn, points, start: datetime, end: datetime, granularity: str) -> PeriodOut:
    s = portfolios.series(conn, points, start, end)
    total, coverage = totals(s, len(points))
    iv = aggregate_columns(s, len(points), granularity)  # type: ignore[arg-type]
    return PeriodOut(start=start, end=end, total=total, coverage=coverage, intervals=[
        IntervalOut(interval_start=i.interval_start, interval_end=i.interval_end, local_start=label,
                    consumption=i.consumption, coverage=i.coverage, estimated=i.estimated)
        for i, label in zip(iv.rows(), local_labels(iv.starts))
    ])


def period_json(conn, points, start: datetime, end: datetime, granularity: str) -> dict:
    """``period`` as plain JSON-ready values, built column-wise: validating a year
    of half-hours through pydantic models cost more than reading and summing the
    data. Encoded by ``consumption_response``."""
    s = portfolios.series(conn, points, start, end)
    total, coverage = totals(s, len(points))
    iv = aggregate_columns(s, len(points), granularity)  # type: ignore[arg-type]
    starts = np.datetime_as_string(iv.starts, unit="s", timezone="UTC").tolist()
    ends = np.datetime_as_string(iv.ends, unit="s", timezone="UTC").tolist()
    return {"start": start, "end": end, "total": total, "coverage": coverage, "intervals": [
        {"interval_start": a, "interval_end": b, "local_start": label, "consumption": kwh if present else None,
         "coverage": c, "estimated": e}
        for a, b, label, kwh, present, c, e in zip(starts, ends, local_labels(iv.starts), iv.kwh.tolist(),
                                                   iv.present.tolist(), iv.coverage.tolist(), iv.estimated.tolist())
    ]}


def comparison(conn, points, start: datetime, end: datetime, granularity: str, compare: str | None) -> dict | None:
    return period_json(conn, points, shift_year(start), shift_year(end), granularity) if compare == "last_year" else None


def consumption_response(current: dict, *, portfolio_id: str | None = None, mpxn: str | None = None,
                         fuel: str | None, granularity: str, supply_points_expected: int,
                         last_year: dict | None) -> Response:
    """A ConsumptionOut, field for field, encoded directly (the route's
    response_model documents it)."""
    return Response(orjson.dumps({
        **current, "portfolio_id": portfolio_id, "mpxn": mpxn, "fuel": fuel, "unit": "kWh", "granularity": granularity,
        "supply_points_expected": supply_points_expected, "last_year": last_year,
    }, option=orjson.OPT_UTC_Z), media_type="application/json")


def pick_fuel(points, fuel: str | None) -> str | None:
    try:
        return choose_fuel(fuels(points), fuel)
    except FuelChoiceError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/api/v1/portfolios/{portfolio_id}/consumption", tags=["consumption"], response_model=ConsumptionOut,
            summary="Consumption of a portfolio, with coverage per interval")
def portfolio_consumption(portfolio_id: str, request: Request, start: START, end: END, granularity: GRANULARITY = "hh",
                          fuel: FUEL = None, compare: COMPARE = None,
                          principal: Principal = Depends(current_principal)) -> Response:
    s, e = query_range(start, end, granularity)
    with engine(request).connect() as conn:
        p = _resolve(conn, principal, portfolio_id)
        chosen = pick_fuel(p.points, fuel)
        points = [pt for pt in p.points if pt.fuel == chosen]
        current = period_json(conn, points, s, e, granularity)
        last_year = comparison(conn, points, s, e, granularity, compare)
    return consumption_response(current, portfolio_id=p.id, fuel=chosen, granularity=granularity,
                                supply_points_expected=len(points), last_year=last_year)


class MissingSiteOut(BaseModel):
    site_id: str
    site_name: str
    mpxn: str
    fuel: str
    account_id: str
    reason: str = Field(description="not_onboarded, opted_out, opt_out_window, no_data or incomplete_data")
    detail: str
    coverage: float


@router.get("/api/v1/portfolios/{portfolio_id}/missing-sites",
            summary="Sites with no or incomplete data in the range, and why")
def missing_sites(portfolio_id: str, request: Request, start: START, end: END,
                  principal: Principal = Depends(current_principal)) -> list[MissingSiteOut]:
    s, e = query_range(start, end)
    with engine(request).connect() as conn:
        p = _resolve(conn, principal, portfolio_id)
        shown = [pt.mpxn for pt in p.points if onboarded(pt) and pt.enrolment_status == "active"]
        coverage = portfolios.coverage_by_point(conn, shown, s, e)
    out = []
    for pt in p.points:
        missing = missing_reason(pt, coverage.get(pt.mpxn, 0.0))
        if missing is not None:
            out.append(MissingSiteOut(site_id=pt.site_id, site_name=pt.site_name, mpxn=pt.mpxn, fuel=pt.fuel,
                                      account_id=pt.account_id, reason=missing.reason, detail=REASON_TEXT[missing.reason],
                                      coverage=missing.coverage))
    return out
