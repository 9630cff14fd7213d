"""Result types of parsing: what a file said, before validation judges it.

The parser reports facts (values, quality, anomalies it saw) and leaves the
accept/reject decision to :mod:`validation`, so one place owns the rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, NamedTuple, Union

import numpy as np

Layout = Literal["wide", "long", "octopus_json", "register"]
Labelling = Literal["interval_start", "interval_end", "period_number"]
SourceUnit = Literal["kWh", "Wh", "m3"]
RegisterUnit = Literal["m3", "ft3", "kWh"]
ReadType = Literal["actual", "estimated", "customer"]


class UnparseableFile(Exception):
    """The file as a whole cannot be read; the API maps this to HTTP 422."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Problem(NamedTuple):
    """An anomaly the parser saw in a meter-day; validation turns it into a rejection."""

    code: str  # period_count | conflicting_duplicate | non_numeric
    detail: str


@dataclass(frozen=True, slots=True)
class ParsedMeterDay:
    """One supply point's half-hourly kWh for one local settlement day.

    ``values`` has exactly one entry per settlement period of the day (46/48/50);
    None is a missing interval and stays missing. ``source_values`` are the numbers
    as the file gave them, in ``source_unit``.
    """

    row_number: int
    mpxn: str
    settlement_date: date
    values: list[float | None]
    quality: str
    source_unit: SourceUnit = "kWh"
    source_values: list[float | None] = field(default_factory=list)
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class MeterDayBlock:
    """Consecutive meter-days of one period count, as columns: what bulk reading
    gives and what ingest validates and stores, without an object per meter-day.

    ``kwh`` and ``source`` are float64 matrices with one row per meter-day and NaN
    for a missing interval (a parsed value is never NaN); ``source`` is ``kwh``
    itself when every row's unit is kWh.
    """

    row_numbers: list[int]
    mpxns: list[str]
    dates: list[date]
    kwh: np.ndarray
    qualities: list[str]
    source_units: list[SourceUnit]
    source: np.ndarray
    problems: list[tuple[Problem, ...]]

    def __len__(self) -> int:
        return len(self.mpxns)

    @classmethod
    def of_days(cls, days: list[ParsedMeterDay]) -> MeterDayBlock:
        """Meter-days that all have the same number of values, as one block."""
        kwh = np.array([d.values for d in days], dtype="<f8").reshape(len(days), -1)  # None -> NaN
        source = kwh if all(d.source_values is d.values or not d.source_values for d in days) else \
            np.array([d.source_values or d.values for d in days], dtype="<f8").reshape(len(days), -1)
        return cls([d.row_number for d in days], [d.mpxn for d in days], [d.settlement_date for d in days], kwh,
                   [d.quality for d in days], [d.source_unit for d in days], source, [d.problems for d in days])

    def days(self) -> list[ParsedMeterDay]:
        """The meter-days one by one (None for a missing interval), as the row parser gives them."""
        kwh = [[None if v != v else v for v in row] for row in self.kwh.tolist()]
        source = kwh if self.source is self.kwh else \
            [[None if v != v else v for v in row] for row in self.source.tolist()]
        return [ParsedMeterDay(*fields) for fields in zip(
            self.row_numbers, self.mpxns, self.dates, kwh, self.qualities, self.source_units, source, self.problems)]


@dataclass(frozen=True, slots=True)
class ParsedRegisterRead:
    """A gas (or power) meter index read, as needed by the AQ service."""

    row_number: int
    mpxn: str
    read_date: date
    register_value: float
    unit: RegisterUnit = "m3"
    read_type: ReadType = "actual"


@dataclass(frozen=True, slots=True)
class RowRejection:
    """A row (or meter-day) that cannot be used, with a machine and a human reason."""

    row_number: int | None
    mpxn: str | None
    settlement_date: date | None
    reason_code: str
    reason: str


ParsedItem = Union[ParsedMeterDay, ParsedRegisterRead, RowRejection]
StreamItem = Union[ParsedItem, MeterDayBlock]  # what ParseResult.stream() gives


@dataclass(frozen=True)
class DetectedFormat:
    """What the parser concluded about a file; shown to operators via the batch API."""

    layout: Layout
    labelling: Labelling
    date_format: str
    unit: SourceUnit | RegisterUnit
    has_flags: bool
    columns: dict[str, str]
    source: Literal["csv", "xlsx", "json"] = "csv"
    delimiter: str | None = None
    header_row: int | None = None
    profile: str | None = None

    def describe(self) -> str:
        layout = {
            "wide": "one row per meter-day",
            "long": "one row per reading",
            "octopus_json": "Octopus-style JSON results",
            "register": "register (index) reads",
        }[self.layout]
        labelling = {
            "interval_start": "times label the interval start",
            "interval_end": "times label the interval end",
            "period_number": "columns numbered by settlement period",
        }[self.labelling]
        parts = [f"{self.source.upper()} file, {layout}"]
        if self.layout != "register":
            parts.append(labelling)
        parts.append(f"dates {self.date_format}")
        parts.append(f"unit {self.unit}")
        if self.layout != "register":
            parts.append("with actual/estimated flags" if self.has_flags else "no actual/estimated flags")
        if self.delimiter and self.source == "csv":
            parts.append(f"delimiter {self.delimiter!r}")
        if self.header_row:
            parts.append(f"header on line {self.header_row}")
        if self.profile:
            parts.append(f"profile {self.profile!r}")
        mapped = "; ".join(f"{role}: {name}" for role, name in self.columns.items())
        return ", ".join(parts) + (f" [{mapped}]" if mapped else "")
