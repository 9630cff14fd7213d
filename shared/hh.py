"""Half-hourly settlement-day arithmetic.

UK settlement days run in local time (Europe/London): 48 periods normally,
46 on the spring clock-change day and 50 on the autumn one. Instants are
stored in UTC; local labels are for presentation only.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

LONDON = ZoneInfo("Europe/London")
PERIOD = timedelta(minutes=30)


def local_midnight_utc(day: date) -> datetime:
    """The UTC instant at which the local settlement day starts."""
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(timezone.utc)


@lru_cache(maxsize=4096)
def periods_in_day(day: date) -> int:
    """46, 48 or 50: the number of half-hour periods in the local day."""
    span = local_midnight_utc(day + timedelta(days=1)) - local_midnight_utc(day)
    return int(span / PERIOD)


def period_starts_utc(day: date) -> list[datetime]:
    start = local_midnight_utc(day)
    return [start + i * PERIOD for i in range(periods_in_day(day))]


def local_label(instant: datetime) -> str:
    """ISO 8601 local time with its offset, e.g. 2024-10-27T01:30:00+00:00."""
    return instant.astimezone(LONDON).isoformat()


def settlement_date_of(instant: datetime) -> date:
    return instant.astimezone(LONDON).date()


def period_index(instant: datetime) -> int:
    """0-based settlement period of a UTC instant within its local day."""
    day = settlement_date_of(instant)
    return int((instant - local_midnight_utc(day)) / PERIOD)


def encode_values(values: Iterable[float | None]) -> bytes:
    """A meter-day's values as little-endian float64, NaN for a missing period."""
    return np.array([np.nan if v is None else v for v in values], dtype="<f8").tobytes()


def encode_rows(values: np.ndarray) -> list[bytes]:
    """Each row of a float64 matrix (NaN for a missing period) as :func:`encode_values` gives it."""
    data = np.ascontiguousarray(values, dtype="<f8").tobytes()
    size = values.shape[1] * 8
    return [data[i:i + size] for i in range(0, len(data), size)] if size else [b""] * len(values)


def decode_values(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f8")
