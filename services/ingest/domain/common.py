"""Small helpers shared by the wide, long and register row parsers."""
from __future__ import annotations

from dataclasses import dataclass

from services.ingest.domain.model import ReadType, SourceUnit
from services.ingest.domain.units import DEFAULT_CALORIFIC_VALUE, kwh_factor, unit_from_text


@dataclass(frozen=True)
class ParseSettings:
    """Per-file parsing choices, from detection and/or the feed profile."""

    unit: SourceUnit = "kWh"
    calorific_value: float = DEFAULT_CALORIFIC_VALUE
    day_first: bool = True
    decimal_comma: bool = False
    positional: bool = False
    default_mpxn: str | None = None

    def factor(self, unit: SourceUnit) -> float:
        return kwh_factor(unit, self.calorific_value)


def clean_mpxn(text: str) -> str:
    """MPxN as digits: drops spaces (``12 3456 7890 123``), Excel's leading ``'`` and a ``.0`` float tail."""
    value = text.strip().strip("'\"").replace(" ", "")
    if value.endswith(".0") and value[:-2].isdigit():
        value = value[:-2]
    return value


def quality_char(text: str) -> str | None:
    """'E' for an estimate marker, 'A' for actual, None when the cell says nothing."""
    cleaned = text.strip().lower()
    if not cleaned:
        return None
    return "E" if cleaned[0] == "e" or cleaned in ("est", "s", "substituted") else "A"


def read_type(text: str) -> ReadType:
    cleaned = text.strip().lower()
    if cleaned.startswith("e"):
        return "estimated"
    if cleaned.startswith("c"):
        return "customer"
    return "actual"


def row_unit(text: str, fallback: SourceUnit) -> SourceUnit | None:
    """Unit named in a per-row unit cell; ``fallback`` when blank, None when unrecognised."""
    if not text.strip():
        return fallback
    return unit_from_text(text)


def cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index]
