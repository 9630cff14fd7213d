"""Half-hourly gas data as index reads for the calendar.

The calendar works on register (index) reads. A point with HH data gets a
synthetic cumulative kWh index instead: the running total of its complete gas
days from the start of an unbroken chain. A day with missing half-hours is a
gap that is never filled; once a gap is older than the grace period for late
data, the chain restarts after it and the index reads before it are dropped,
so no read period ever spans missing energy. The gap is kept on the point so a
period too short because of it fails as a consumption gap.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Mapping, Optional

from services.aq.domain.calendar import Read

HH_UNIT = "kWh"


@dataclass(frozen=True)
class HhChain:
    """The unbroken run of complete gas days the HH index is summed over."""

    anchor: Optional[date] = None
    #: Gas days before ``through`` are summed into ``index_kwh`` (``through`` is the last read date).
    through: Optional[date] = None
    index_kwh: float = 0.0


@dataclass(frozen=True)
class HhAdvance:
    chain: HhChain
    #: New index reads: the zero read opening a new chain, then the read at its end.
    reads: tuple[Read, ...]
    #: The missing day that broke the chain, when it restarted: earlier HH reads are void.
    gap: Optional[date]


def advance_chain(
    chain: HhChain, days: Mapping[date, Optional[float]], today: date, grace_days: int = 5
) -> HhAdvance:
    """Extend the chain over complete days before ``today`` and issue an index read at its end.

    ``days`` maps gas days at or after the chain position to their energy, or to
    ``None`` when half-hours are missing; an absent day has not arrived (yet).
    """
    gap: Optional[date] = None
    opened: Optional[date] = None
    if chain.anchor is None:
        complete = sorted(d for d, kwh in days.items() if kwh is not None and d < today)
        if not complete:
            return HhAdvance(chain, (), None)
        opened = complete[0]
        chain = HhChain(opened, opened, 0.0)
    position = chain.through or chain.anchor
    assert position is not None
    index = chain.index_kwh
    while True:
        while position < today and days.get(position) is not None:
            index += days[position]  # type: ignore[operator]
            position += timedelta(days=1)
        later = sorted(d for d, kwh in days.items() if d > position and d < today and kwh is not None)
        if not later or position >= today - timedelta(days=grace_days):
            break
        # An old gap with complete days after it: the late data is not coming.
        gap, position, index = position, later[0], 0.0
        opened = position
        chain = HhChain(position, position, 0.0)
    reads = (Read(opened, 0.0, HH_UNIT),) if opened is not None else ()
    if position == chain.through:
        return HhAdvance(chain, reads, gap)
    return HhAdvance(HhChain(chain.anchor, position, index), (*reads, Read(position, index, HH_UNIT)), gap)
