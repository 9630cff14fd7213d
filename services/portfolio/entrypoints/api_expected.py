"""Expected consumption of a portfolio for the current or next month, from
per-site degree-day models, with a 95 % band."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from services.portfolio.adapters import portfolios
from services.portfolio.domain import expected as model
from services.portfolio.domain.portfolio import shows_data
from services.portfolio.entrypoints.api_portfolios import FUEL, _resolve, pick_fuel
from services.portfolio.entrypoints.http import engine, today
from shared.auth import Principal, current_principal
from shared.synthetic import weather

router = APIRouter(tags=["expected"])


class SiteExpectation(BaseModel):
    mpxn: str
    site_id: str
    site_name: str
    status: Literal["modelled", "insufficient_data", "not_shown", "no_weather_location"]
    days_with_data: int
    expected_kwh: float | None


class ExpectedOut(BaseModel):
    portfolio_id: str
    fuel: str | None
    period: str
    period_start: date
    period_end: date = Field(description="Exclusive")
    expected_kwh: float | None = Field(description="Sum over the modelled supply points")
    lower_kwh: float | None = Field(description="95 % band, from the models' residual variance")
    upper_kwh: float | None
    modelled: int
    insufficient: list[str] = Field(description="Supply points with under 270 complete days in the last 365")
    sites: list[SiteExpectation]


def month_bounds(day: date, ahead: int) -> tuple[date, date]:
    index = day.year * 12 + day.month - 1 + ahead
    start = date(index // 12, index % 12 + 1, 1)
    nxt = index + 1
    return start, date(nxt // 12, nxt % 12 + 1, 1)


def _known_location(location: str | None) -> bool:
    try:
        return bool(location) and bool(weather.canonical_location(location))
    except ValueError:
        return False


def _temperatures(location: str, start: date, end: date) -> np.ndarray:
    """Daily means of the reference dataset: observed for history, the expectation for the period."""
    return weather.daily_mean_temperatures(location, start, end)


@router.get("/api/v1/portfolios/{portfolio_id}/expected",
            summary="Expected consumption this or next month, weather-normalised, with an uncertainty band")
def expected(portfolio_id: str, request: Request,
             period: Annotated[Literal["current", "next"], Query(description="current or next calendar month")] = "current",
             fuel: FUEL = None, principal: Principal = Depends(current_principal)) -> ExpectedOut:
    now = today()
    start, end = month_bounds(now, 0 if period == "current" else 1)
    train_first = now - timedelta(days=model.WINDOW_DAYS)
    with engine(request).connect() as conn:
        p = _resolve(conn, principal, portfolio_id)
        chosen = pick_fuel(p.points, fuel)
        points = [pt for pt in p.points if pt.fuel == chosen]
        history = portfolios.days_by_point(conn, [pt.mpxn for pt in points if shows_data(pt)], train_first,
                                           now - timedelta(days=1))
    parts, sites, insufficient = [], [], []
    for pt in points:
        days = history.get(pt.mpxn)
        status, n, value = "not_shown", 0, None
        if days is not None and not _known_location(pt.weather_location):
            status = "no_weather_location"
        elif days is not None:
            daily = model.daily_totals(days, train_first, model.WINDOW_DAYS)
            n = int((~np.isnan(daily)).sum())
            fitted = model.fit(daily, _temperatures(pt.weather_location, train_first, now),
                               cooling=pt.fuel == "electricity")
            if fitted is None:
                status = "insufficient_data"
                insufficient.append(pt.mpxn)
            else:
                part = model.expect(fitted, _temperatures(pt.weather_location, start, end))
                parts.append(part)
                status, value = "modelled", round(part.total, 3)
        sites.append(SiteExpectation(mpxn=pt.mpxn, site_id=pt.site_id, site_name=pt.site_name, status=status,
                                     days_with_data=n, expected_kwh=value))
    total = model.combine(parts) if parts else None
    lower, upper = total.band if total else (None, None)
    return ExpectedOut(portfolio_id=p.id, fuel=chosen, period=period, period_start=start, period_end=end,
                       expected_kwh=round(total.total, 3) if total else None,
                       lower_kwh=round(lower, 3) if total else None, upper_kwh=round(upper, 3) if total else None,
                       modelled=len(parts), insufficient=insufficient, sites=sites)
