"""Site temperature (observed and forecast) for overlaying on consumption."""
from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from services.portfolio.adapters.temperature import ProviderError, UnknownLocation, provider_for
from services.portfolio.entrypoints.api import visible_point
from services.portfolio.entrypoints.api_portfolios import END, START
from services.portfolio.entrypoints.http import engine, query_range
from shared.auth import Principal, current_principal
from shared.hh import local_label

router = APIRouter(tags=["weather"])
MAX_TEMPERATURE_DAYS = 400


class HourOut(BaseModel):
    interval_start: datetime
    local_start: str
    celsius: float
    kind: str = Field(description="observed or forecast")


class TemperatureOut(BaseModel):
    mpxn: str
    location: str
    provider: str
    unit: str = "°C"
    hours: list[HourOut]


@router.get("/api/v1/sites/{mpxn}/temperature", summary="Observed and forecast hourly temperature at the site")
def site_temperature(mpxn: str, request: Request, start: START, end: END,
                     principal: Principal = Depends(current_principal)) -> TemperatureOut:
    s, e = query_range(start, end)
    if (e - s).days > MAX_TEMPERATURE_DAYS:
        raise HTTPException(422, f"at most {MAX_TEMPERATURE_DAYS} days of temperature per request")
    with engine(request).connect() as conn:
        point = visible_point(conn, principal, mpxn)
    if not point.weather_location:
        raise HTTPException(409, f"site {point.site_id} has no weather location")
    provider = provider_for(request.app.state.settings.temperature_provider)
    try:
        hours = provider.hourly(point.weather_location, s, e, datetime.now(timezone.utc))
    except UnknownLocation as exc:
        raise HTTPException(409, str(exc)) from exc
    except ProviderError as exc:
        raise HTTPException(503, str(exc)) from exc
    return TemperatureOut(mpxn=mpxn, location=point.weather_location, provider=provider.name, hours=[
        HourOut(interval_start=h.instant, local_start=local_label(h.instant), celsius=h.celsius, kind=h.kind)
        for h in hours
    ])
