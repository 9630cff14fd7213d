"""Portfolio exports: three layouts, CSV or XLSX, streamed over any date range."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from services.portfolio.adapters import portfolios
from services.portfolio.adapters.export_files import csv_chunks, xlsx_chunks
from services.portfolio.domain import exports
from services.portfolio.entrypoints.api_portfolios import END, FUEL, START, _resolve, period, pick_fuel
from services.portfolio.entrypoints.http import engine, parse_instant, query_range
from shared.auth import Principal, current_principal
from shared.hh import LONDON

router = APIRouter(tags=["exports"])

_MEDIA = {"csv": "text/csv; charset=utf-8",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.get("/api/v1/portfolios/{portfolio_id}/export", summary="Download a portfolio's data (streamed)",
            response_class=StreamingResponse,
            responses={200: {"content": {_MEDIA["csv"]: {}, _MEDIA["xlsx"]: {}},
                             "description": "The export file; gaps are left empty"}})
def export(portfolio_id: str, request: Request, start: START, end: END,
           layout: Annotated[Literal["long", "wide", "totals"], Query(
               description="long: a row per site and half-hour; wide: a row per site-day with 46/48/50 "
                           "period columns; totals: the portfolio at `granularity`")] = "long",
           format: Annotated[Literal["csv", "xlsx"], Query(description="csv or xlsx")] = "csv",
           granularity: Annotated[str, Query(description="for layout=totals: hh, hour, day, week or month")] = "day",
           fuel: FUEL = None, principal: Principal = Depends(current_principal)) -> StreamingResponse:
    s, e = query_range(start, end, granularity)
    eng = engine(request)
    with eng.connect() as conn:
        p = _resolve(conn, principal, portfolio_id)
        if layout == "totals":
            chosen = pick_fuel(p.points, fuel)
            points = [pt for pt in p.points if pt.fuel == chosen]
            header, rows = exports.TOTALS_HEADER, iter(exports.totals_rows(period(conn, points, s, e, granularity).intervals))
        else:
            if fuel not in (None, "electricity", "gas"):
                raise HTTPException(422, "fuel must be electricity or gas")
            points = [pt for pt in p.points if fuel is None or pt.fuel == fuel]
            if s != parse_instant(start[:10], "start") or e != parse_instant(end[:10], "end"):
                raise HTTPException(422, "long and wide exports cover whole days: give start and end as dates")
            first, last = s.astimezone(LONDON).date(), (e - timedelta(microseconds=1)).astimezone(LONDON).date()
            days = portfolios.point_days(eng, points, first, last)
            header = exports.LONG_HEADER if layout == "long" else exports.WIDE_HEADER
            rows = exports.long_rows(days) if layout == "long" else exports.wide_rows(days)
    chunks: Iterator[bytes] = csv_chunks(header, rows) if format == "csv" else xlsx_chunks(header, rows)
    name = f"{portfolio_id}-{layout}-{start[:10]}-{end[:10]}.{format}"
    return StreamingResponse(chunks, media_type=_MEDIA[format],
                             headers={"content-disposition": f'attachment; filename="{name}"'})
