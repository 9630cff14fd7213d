"""Long rows (one reading per row) and their grouping into meter-days.

Files are usually sorted by meter then time, so a meter-day is emitted as soon as
the key changes *and* every period of the day has been seen. Incomplete days stay
open until the end of the file, which makes time-sorted or shuffled files come out
right (they are collected) while sorted complete files stream in bounded memory.
A reading arriving for a day already emitted is compared with what was emitted.
"""
from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Iterator

from shared.hh import period_index, periods_in_day, settlement_date_of
from services.ingest.domain.common import ParseSettings, cell, clean_mpxn, quality_char, row_unit
from services.ingest.domain.detect import Columns
from services.ingest.domain.model import (
    Labelling, ParsedItem, ParsedMeterDay, Problem, RowRejection, SourceUnit,
)
from services.ingest.domain.timestamps import Stamp, local_to_utc, parse_stamp
from services.ingest.domain.units import parse_number

HALF_HOUR = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Reading:
    """One interval value as read from a row, before it is placed in its meter-day."""

    row_number: int
    mpxn: str
    source_value: float | None
    quality: str
    unit: SourceUnit
    problem: Problem | None = None


@dataclass(slots=True)
class _Builder:
    mpxn: str
    day: date
    first_row: int
    unit: SourceUnit
    values: list[float | None]
    source: list[float | None]
    quality: list[str]
    seen: bytearray
    filled: int = 0
    problems: list[Problem] = field(default_factory=list)

    def build(self) -> ParsedMeterDay:
        return ParsedMeterDay(self.first_row, self.mpxn, self.day, self.values, "".join(self.quality),
                              self.unit, self.source, tuple(self.problems))


@lru_cache(maxsize=8192)
def _locate(start_utc: datetime) -> tuple[date, int]:
    return settlement_date_of(start_utc), period_index(start_utc)


class MeterDayGrouper:
    """Collects readings into meter-days; see the module docstring for the flushing rule."""

    def __init__(self, settings: ParseSettings) -> None:
        self._settings = settings
        self._open: dict[tuple[str, date], _Builder] = {}
        self._emitted: dict[tuple[str, date], array] = {}
        self._last: tuple[str, date] | None = None

    def add_instant(self, reading: Reading, instant: datetime, end_labelled: bool) -> list[ParsedItem]:
        """A reading stamped with an absolute instant (the text carried a UTC offset)."""
        start = instant.astimezone(timezone.utc) - (HALF_HOUR if end_labelled else timedelta(0))
        if start.minute % 30 or start.second or start.microsecond:
            return [RowRejection(reading.row_number, reading.mpxn, None, "bad_time",
                                 f"{instant.isoformat()} is not on a half-hour boundary")]
        day, index = _locate(start)
        return self._put(reading, day, index)

    def add_wall(self, reading: Reading, wall: datetime, end_labelled: bool) -> list[ParsedItem]:
        """A reading stamped with Europe/London wall-clock time.

        In the repeated autumn hour the first sighting of a wall time is the BST
        one and the second sighting the GMT one.
        """
        if wall.minute % 30 or wall.second:
            return [RowRejection(reading.row_number, reading.mpxn, None, "bad_time",
                                 f"{wall.isoformat(sep=' ')} is not on a half-hour boundary")]
        first, second, exists = local_to_utc(wall)
        shift = HALF_HOUR if end_labelled else timedelta(0)
        if not exists:
            day = (wall - shift).date()
            problem = Problem("period_count", f"local time {wall:%H:%M} does not exist on {wall.date()} "
                                              f"(clocks go forward), so {day} cannot have that period")
            return self._put(reading, day, None, problem)
        day, index = _locate(first - shift)
        if second is not None:
            builder = self._open.get((reading.mpxn, day))
            if builder is not None and builder.seen[index]:
                day, index = _locate(second - shift)
        return self._put(reading, day, index)

    def add_period(self, reading: Reading, day: date, period: int) -> list[ParsedItem]:
        """A reading numbered by settlement period (1-based) within its day."""
        count = periods_in_day(day)
        if not 1 <= period <= count:
            problem = Problem("period_count", f"{day} has {count} periods, the file has period {period}")
            return self._put(reading, day, None, problem)
        return self._put(reading, day, period - 1)

    def finish(self) -> Iterator[ParsedMeterDay]:
        for builder in self._open.values():
            yield builder.build()
        self._open.clear()

    def _put(self, reading: Reading, day: date, index: int | None,
             problem: Problem | None = None) -> list[ParsedItem]:
        key = (reading.mpxn, day)
        out: list[ParsedItem] = []
        if key != self._last:
            if self._last is not None:
                previous = self._open.get(self._last)
                if previous is not None and previous.filled == len(previous.values):
                    out.append(self._emit(self._last))
            self._last = key
        if key in self._emitted:
            if index is None:
                found = problem or reading.problem
                out.append(RowRejection(reading.row_number, reading.mpxn, day, found.code if found else "bad_time",
                                        found.detail if found else "reading cannot be placed"))
            else:
                out += self._late(reading, day, index)
            return out
        builder = self._open.get(key) or self._new(reading, day)
        factor = self._settings.factor(reading.unit)
        value = None if reading.source_value is None else reading.source_value * factor
        for found in (problem, reading.problem):
            if found is not None:
                builder.problems.append(found)
        if index is None:
            return out
        if builder.seen[index]:
            if builder.values[index] != value:
                builder.problems.append(Problem(
                    "conflicting_duplicate",
                    f"period {index + 1} appears twice with different values "
                    f"({builder.source[index]} and {reading.source_value}, row {reading.row_number})"))
            return out
        builder.seen[index] = 1
        builder.filled += 1
        builder.values[index] = value
        builder.source[index] = reading.source_value
        builder.quality[index] = "-" if value is None else reading.quality
        return out

    def _new(self, reading: Reading, day: date) -> _Builder:
        count = periods_in_day(day)
        builder = _Builder(reading.mpxn, day, reading.row_number, reading.unit, [None] * count,
                           [None] * count, ["-"] * count, bytearray(count))
        self._open[(reading.mpxn, day)] = builder
        return builder

    def _emit(self, key: tuple[str, date]) -> ParsedMeterDay:
        builder = self._open.pop(key)
        self._emitted[key] = array("d", (math.nan if v is None else v for v in builder.values))
        return builder.build()

    def _late(self, reading: Reading, day: date, index: int) -> list[ParsedItem]:
        kept = self._emitted[(reading.mpxn, day)][index]
        factor = self._settings.factor(reading.unit)
        value = math.nan if reading.source_value is None else reading.source_value * factor
        if kept == value or (math.isnan(kept) and math.isnan(value)):
            return []
        return [RowRejection(reading.row_number, reading.mpxn, day, "conflicting_duplicate",
                             f"period {index + 1} of {day} was already read with a different value")]


class LongRowParser:
    """Turns long rows into readings and feeds them to a MeterDayGrouper."""

    def __init__(self, cols: Columns, labelling: Labelling, settings: ParseSettings) -> None:
        self._settings = settings
        self._roles = cols.roles
        self._end = labelling == "interval_end"
        self.grouper = MeterDayGrouper(settings)

    def parse(self, number: int, row: list[str]) -> list[ParsedItem]:
        roles = self._roles
        mpxn = clean_mpxn(cell(row, roles["mpxn"])) if "mpxn" in roles else (self._settings.default_mpxn or "")
        if not mpxn:
            return [RowRejection(number, None, None, "missing_mpxn", "the row has no MPxN")]
        unit = row_unit(cell(row, roles.get("unit")), self._settings.unit)
        if unit is None:
            return [RowRejection(number, mpxn, None, "bad_unit", f"unknown unit {cell(row, roles.get('unit'))!r}")]
        raw_value = cell(row, roles.get("value"))
        problem = None
        try:
            source = parse_number(raw_value, self._settings.decimal_comma)
        except ValueError:
            source = None
            problem = Problem("non_numeric", f"{raw_value.strip()!r} on row {number} is not a number")
        quality = quality_char(cell(row, roles.get("quality"))) or "A"
        reading = Reading(number, mpxn, source, quality, unit, problem)
        if "period" in roles:
            return self._by_period(reading, row)
        stamp = self.stamp(row)
        if stamp is None or stamp.minute is None:
            return [RowRejection(number, mpxn, None, "bad_date",
                                 f"unrecognised date-time {self._stamp_text(row)!r}")]
        if stamp.offset_minutes is not None:
            return self.grouper.add_instant(reading, stamp.instant_utc(), self._end)
        return self.grouper.add_wall(reading, stamp.naive(), self._end)

    def stamp(self, row: list[str]) -> Stamp | None:
        return parse_stamp(self._stamp_text(row), self._settings.day_first)

    def _stamp_text(self, row: list[str]) -> str:
        if "timestamp" in self._roles:
            return cell(row, self._roles["timestamp"])
        text = cell(row, self._roles.get("date")).strip()
        if "time" in self._roles:
            text = f"{text} {cell(row, self._roles['time']).strip()}"
        return text

    def _by_period(self, reading: Reading, row: list[str]) -> list[ParsedItem]:
        stamp = parse_stamp(cell(row, self._roles.get("date")), self._settings.day_first)
        text = cell(row, self._roles["period"]).strip()
        if stamp is None:
            return [RowRejection(reading.row_number, reading.mpxn, None, "bad_date",
                                 f"unrecognised date {cell(row, self._roles.get('date'))!r}")]
        if not text.isdigit() or len(text) > 3:
            return [RowRejection(reading.row_number, reading.mpxn, stamp.day, "bad_time",
                                 f"unrecognised settlement period {text!r}")]
        return self.grouper.add_period(reading, stamp.day, int(text))


def octopus_items(results: Iterable[object], mpxn: str, settings: ParseSettings) -> Iterator[ParsedItem]:
    """Items of an Octopus-style ``results`` list: ``{interval_start, interval_end, consumption}``."""
    grouper = MeterDayGrouper(settings)
    for number, item in enumerate(results, start=1):
        yield from _octopus_item(grouper, number, item, mpxn, settings)
    yield from grouper.finish()


def _octopus_item(grouper: MeterDayGrouper, number: int, item: object, mpxn: str,
                  settings: ParseSettings) -> list[ParsedItem]:
    if not isinstance(item, dict):
        return [RowRejection(number, mpxn, None, "malformed_row", "result is not an object")]
    start_text, end = item.get("interval_start"), False
    if not isinstance(start_text, str):
        start_text, end = item.get("interval_end"), True
    stamp = parse_stamp(start_text, True) if isinstance(start_text, str) else None
    if stamp is None or stamp.minute is None:
        return [RowRejection(number, mpxn, None, "bad_date", f"unrecognised interval_start {start_text!r}")]
    raw = item.get("consumption")
    problem = None
    source: float | None = None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw):
        source = float(raw)
    elif isinstance(raw, str):
        try:
            source = parse_number(raw)
        except ValueError:
            problem = Problem("non_numeric", f"consumption {raw!r} of result {number} is not a number")
    elif raw is not None:
        problem = Problem("non_numeric", f"consumption {raw!r} of result {number} is not a number")
    quality = "E" if str(item.get("quality", item.get("read_type", ""))).lower().startswith("e") else "A"
    reading = Reading(number, mpxn, source, quality, settings.unit, problem)
    if stamp.offset_minutes is not None:
        return grouper.add_instant(reading, stamp.instant_utc(), end)
    return grouper.add_wall(reading, stamp.naive(), end)
