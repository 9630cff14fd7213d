"""Helpers shared by portfolio's routers: the engine, today's date and query parameters."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone

from fastapi import HTTPException, Request
from sqlalchemy import Engine

from services.portfolio.domain.consumption import GRANULARITIES
from shared.hh import LONDON

MAX_RANGE_DAYS = 5 * 366
_ID = re.compile(r"[\w.:@+\- ]{1,64}")


def known_id(value: str, what: str) -> str:
    """An id as it can exist here; anything else (control characters, over-long
    strings that some databases refuse) is simply not found."""
    if not _ID.fullmatch(value):
        raise HTTPException(404, f"no {what} with that id among yours")
    return value


def engine(request: Request) -> Engine:
    return request.app.state.engine


def today() -> date:
    return datetime.now(LONDON).date()


def wake_outbox(request: Request) -> None:
    request.app.state.service.outbox.wake()


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


def query_range(start: str, end: str, granularity: str = "hh") -> tuple[datetime, datetime]:
    """[start, end) on half-hour boundaries, at most five years long."""
    if granularity not in GRANULARITIES:
        raise HTTPException(422, f"granularity must be one of {', '.join(GRANULARITIES)}")
    s, e = parse_instant(start, "start"), parse_instant(end, "end")
    if e <= s:
        raise HTTPException(422, "end must be after start (start inclusive, end exclusive)")
    if s.minute % 30 or e.minute % 30 or s.second or e.second or s.microsecond or e.microsecond:
        raise HTTPException(422, "start and end must fall on half-hour boundaries")
    if (e - s).days > MAX_RANGE_DAYS:
        raise HTTPException(422, "range too long: at most five years per request")
    if s.year < 1990 or e.year > 2100:
        raise HTTPException(422, "start and end must lie between 1990 and 2100")
    return s, e
