"""Dates and date-times in the spellings real HH files use.

Hand-written regexes (cached per distinct string) rather than dateutil: a D+1 file
repeats the same few stamps thousands of times, and we must know *which* format
matched so detection can report it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from shared.hh import LONDON

MIN_YEAR, MAX_YEAR = 1990, 2200
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_TIME = (r"(?:(?:[T ]+|T)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,]\d+)?)?\s*(?P<ampm>[ap]m)?"
         r"\s*(?P<tz>z|utc|[+-]\d{2}:?\d{2})?)?")
_FORMATS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})" + _TIME, re.I), "YYYY-MM-DD"),
    (re.compile(r"(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{4})" + _TIME, re.I), "NN/NN/YYYY"),
    (re.compile(r"(?P<mon>[a-z]{3})[a-z]*\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>\d{4})" + _TIME, re.I), "Mon DD YYYY"),
    (re.compile(r"(?P<d>\d{1,2})[ -](?P<mon>[a-z]{3})[a-z]*[ -](?P<y>\d{4})" + _TIME, re.I), "DD Mon YYYY"),
    (re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:[T ]?(?P<h>\d{2}):?(?P<mi>\d{2}))?"), "YYYYMMDD"),
]


@dataclass(frozen=True, slots=True)
class Stamp:
    """A parsed date or date-time.

    ``minute`` counts minutes after midnight of ``day`` (1440 for "24:00"), None
    when the text had no time part; ``offset_minutes`` is the UTC offset when the
    text carried one (then the stamp is an absolute instant).
    """

    day: date
    minute: int | None
    offset_minutes: int | None
    style: str

    def naive(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day) + timedelta(minutes=self.minute or 0)

    def instant_utc(self) -> datetime:
        """Only meaningful when ``offset_minutes`` is set."""
        return (self.naive() - timedelta(minutes=self.offset_minutes or 0)).replace(tzinfo=timezone.utc)


@lru_cache(maxsize=16384)
def parse_stamp(text: str, day_first: bool = True) -> Stamp | None:
    """The stamp in ``text`` or None when it is not a date we recognise (or not a real date)."""
    cleaned = text.strip().strip('"').strip()
    for pattern, style in _FORMATS:
        match = pattern.fullmatch(cleaned)
        if match:
            return _build(match.groupdict(), style, day_first)
    return None


def _build(g: dict[str, str | None], style: str, day_first: bool) -> Stamp | None:
    try:
        year = int(g["y"])  # type: ignore[arg-type]
        if style == "NN/NN/YYYY":
            first, second = int(g["a"]), int(g["b"])  # type: ignore[arg-type]
            day_n, month = (first, second) if day_first else (second, first)
            style = "DD/MM/YYYY" if day_first else "MM/DD/YYYY"
        elif g.get("mon"):
            month = _MONTHS[g["mon"][:3].lower()]  # type: ignore[index]
            day_n = int(g["d"])  # type: ignore[arg-type]
        else:
            month, day_n = int(g["m"]), int(g["d"])  # type: ignore[arg-type]
        if not MIN_YEAR <= year <= MAX_YEAR:
            return None
        day = date(year, month, day_n)
    except (KeyError, ValueError):
        return None
    minute, offset = None, None
    if g.get("h") is not None:
        hour, mins = int(g["h"]), int(g["mi"])  # type: ignore[arg-type]
        ampm = (g.get("ampm") or "").lower()
        if ampm:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if ampm == "pm" else 0)
            style += " hh:mmAM"
        else:
            style += " hh:mm" + (":ss" if g.get("s") else "")
        if mins > 59 or hour > 24 or (hour == 24 and mins):
            return None
        minute = hour * 60 + mins
        offset = _offset(g.get("tz"))
        if offset is not None:
            style = "ISO 8601 with offset" if style.startswith("YYYY-MM-DD") else style + " with offset"
        elif g.get("tz"):
            return None
    return Stamp(day, minute, offset, style)


def _offset(tz: str | None) -> int | None:
    if not tz:
        return None
    if tz.lower() in ("z", "utc"):
        return 0
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, mins = int(digits[:2]), int(digits[2:])
    if hours > 14 or mins > 59:
        return None
    return sign * (hours * 60 + mins)


@lru_cache(maxsize=8192)
def local_to_utc(wall: datetime) -> tuple[datetime, datetime | None, bool]:
    """Resolve a naive Europe/London wall time.

    Returns (instant for the first occurrence, instant for the second occurrence
    when the wall time is repeated in the autumn, else None, whether it exists at
    all - spring-forward times do not).
    """
    first = wall.replace(tzinfo=LONDON, fold=0).astimezone(timezone.utc)
    second = wall.replace(tzinfo=LONDON, fold=1).astimezone(timezone.utc)
    exists = first.astimezone(LONDON).replace(tzinfo=None) == wall
    return first, (second if second != first and exists else None), exists
