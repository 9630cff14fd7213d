"""The business clock. Everything that asks "what day is it" takes a Clock, so
tests (and replays) can run a whole bill period in seconds."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol

from shared.hh import LONDON


class Clock(Protocol):
    def now(self) -> datetime:
        """The current UTC instant."""

    def today(self) -> date:
        """The current Europe/London day (the first day with no D+1 data yet)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def today(self) -> date:
        return datetime.now(LONDON).date()


class ManualClock:
    """A clock that stands still until moved."""

    def __init__(self, today: date):
        self._today = today

    def set(self, today: date) -> None:
        self._today = today

    def advance(self, days: int = 1) -> None:
        self._today += timedelta(days=days)

    def today(self) -> date:
        return self._today

    def now(self) -> datetime:
        return datetime.combine(self._today, time(9), tzinfo=LONDON).astimezone(timezone.utc)


async def sleep_unless(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    """Sleep up to ``seconds``, returning early when either event is set."""
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for w in waits:
        w.cancel()
