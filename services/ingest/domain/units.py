"""Numbers and units: cell text to float, and source units to kWh."""
from __future__ import annotations

import math
import re

from services.ingest.domain.model import RegisterUnit, SourceUnit

DEFAULT_CALORIFIC_VALUE = 39.5  # MJ/m3, a typical GB value; configurable per profile
GAS_VOLUME_CORRECTION = 1.02264
MISSING_TOKENS = frozenset({"", "-", "--", "null", "none", "n/a", "na", "nan", "#n/a", "missing"})
_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d*)?")


def parse_number(text: str, decimal_comma: bool = False) -> float | None:
    """None for a blank/missing cell; ValueError for anything that is not a finite number."""
    cleaned = text.strip().strip('"').strip()
    if cleaned.lower() in MISSING_TOKENS:
        return None
    if decimal_comma:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif "," in cleaned and _THOUSANDS.fullmatch(cleaned):
        cleaned = cleaned.replace(",", "")
    value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    return value


def kwh_factor(unit: SourceUnit, calorific_value: float = DEFAULT_CALORIFIC_VALUE) -> float:
    """Multiplier taking ``unit`` to kWh; m3 uses volume correction and the CV (MJ/m3)."""
    if unit == "kWh":
        return 1.0
    if unit == "Wh":
        return 0.001
    return GAS_VOLUME_CORRECTION * calorific_value / 3.6


def unit_from_text(text: str) -> SourceUnit | None:
    """Recognise a unit mentioned in a header or unit cell."""
    low = text.lower()
    if re.search(r"\bkwh\b|kilowatt", low):
        return "kWh"
    if re.search(r"\bwh\b|watt ?hour", low):
        return "Wh"
    if re.search(r"m3|m³|m\^3|cubic met|\bcum\b", low):
        return "m3"
    return None


def register_unit_from_text(text: str) -> RegisterUnit | None:
    low = text.lower()
    if re.search(r"ft3|ft³|cubic f|\bhcf\b|\bcf\b", low):
        return "ft3"
    unit = unit_from_text(low)
    return unit if unit in ("m3", "kWh") else None  # type: ignore[return-value]
