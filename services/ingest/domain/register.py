"""Register (index) reads: MPRN, read date, meter index, read type - input to gas Rolling AQ."""
from __future__ import annotations

from services.ingest.domain.common import ParseSettings, cell, clean_mpxn, read_type
from services.ingest.domain.detect import Columns
from services.ingest.domain.model import ParsedRegisterRead, RegisterUnit, RowRejection
from services.ingest.domain.timestamps import parse_stamp
from services.ingest.domain.units import parse_number, register_unit_from_text


class RegisterRowParser:
    def __init__(self, cols: Columns, unit: RegisterUnit, settings: ParseSettings) -> None:
        self._roles = cols.roles
        self._unit = unit
        self._settings = settings

    def parse(self, number: int, row: list[str]) -> ParsedRegisterRead | RowRejection:
        roles = self._roles
        mpxn = clean_mpxn(cell(row, roles["mpxn"])) if "mpxn" in roles else (self._settings.default_mpxn or "")
        if not mpxn:
            return RowRejection(number, None, None, "missing_mpxn", "the row has no MPxN")
        date_text = cell(row, roles.get("date", roles.get("timestamp")))
        stamp = parse_stamp(date_text, self._settings.day_first)
        if stamp is None:
            return RowRejection(number, mpxn, None, "bad_date", f"unrecognised read date {date_text!r}")
        raw = cell(row, roles.get("value"))
        try:
            value = parse_number(raw, self._settings.decimal_comma)
        except ValueError:
            return RowRejection(number, mpxn, stamp.day, "non_numeric", f"register value {raw.strip()!r} is not a number")
        if value is None:
            return RowRejection(number, mpxn, stamp.day, "missing_value", "the row has no register value")
        unit_text = cell(row, roles.get("unit"))
        unit = register_unit_from_text(unit_text) if unit_text.strip() else self._unit
        if unit is None:
            return RowRejection(number, mpxn, stamp.day, "bad_unit", f"unknown register unit {unit_text!r}")
        return ParsedRegisterRead(number, mpxn, stamp.day, value, unit,
                                  read_type(cell(row, roles.get("quality"))))
