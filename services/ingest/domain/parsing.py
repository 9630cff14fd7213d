"""Entry point of the ingest parser: any HH file in, a detected format and a lazy item stream out.

``parse_file`` reads only the header and a small sample eagerly (to detect the
layout and labelling); the rows are parsed while the caller iterates, so a large
D+1 file is never held in memory. Anything that makes the whole file unusable
raises :class:`UnparseableFile`; problems with single rows become
:class:`RowRejection` items.
"""
from __future__ import annotations

from itertools import chain
from typing import Callable, Iterable, Iterator

import orjson

from services.ingest.domain.common import ParseSettings, cell
from services.ingest.domain.decoding import CsvSource, Row, csv_rows, text_lines, xlsx_rows
from services.ingest.domain.detect import END_HINT, START_HINT, REGISTER_WORDS, Columns, classify, normalise
from services.ingest.domain.long import LongRowParser, octopus_items
from services.ingest.domain.model import (
    DetectedFormat, Labelling, Layout, MeterDayBlock, ParsedItem, RowRejection, StreamItem, UnparseableFile,
)
from services.ingest.domain.profiles import FeedProfile
from services.ingest.domain.register import RegisterRowParser
from services.ingest.domain.timestamps import Stamp, parse_stamp
from services.ingest.domain.units import register_unit_from_text, unit_from_text
from services.ingest.domain.wide import WideRowParser
from shared.hh import LONDON

HEADER_SEARCH_ROWS = 30
SAMPLE_ROWS = 200
BULK_LINES = 2000  # lines per bulk read of a wide CSV: enough to amortise pandas' call, few enough to stream
_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"


class ParseResult:
    """The detected format plus a single-pass, lazy stream of parsed items.

    ``stream()`` gives meter-days read in bulk as MeterDayBlocks (what ingest
    stores); iterating gives every meter-day on its own. ``rows_read`` counts data
    rows consumed so far (the final count once iterated).
    """

    def __init__(self, detected: DetectedFormat) -> None:
        self.detected = detected
        self.rows_read = 0
        self._items: Iterator[StreamItem] = iter(())

    def stream(self) -> Iterator[StreamItem]:
        return self._items

    def __iter__(self) -> Iterator[ParsedItem]:
        for item in self._items:
            if isinstance(item, MeterDayBlock):
                yield from item.days()
            else:
                yield item


def parse_file(data: bytes | Iterable[bytes], filename: str, profile: FeedProfile | None = None,
               *, mpxn: str | None = None) -> ParseResult:
    """Detect the format of ``data`` and return a lazy ParseResult.

    ``data`` is the whole file or an iterable of byte chunks. ``mpxn`` supplies the
    supply point for files that do not name it (the Octopus-style push body).
    """
    chunks = iter([bytes(data)]) if isinstance(data, (bytes, bytearray, memoryview)) else iter(data)
    first = next((bytes(c) for c in chunks if c), b"")
    if not first:
        raise UnparseableFile("the file is empty")
    settings = _settings(profile, mpxn)
    name = filename.lower()
    lead = first.lstrip(b"\xef\xbb\xbf \t\r\n\x00")[:1]
    if first.startswith(_XLS_MAGIC) or name.endswith(".xls"):
        raise UnparseableFile("legacy .xls workbooks are not supported: save as .xlsx or CSV")
    if first.startswith(_XLSX_MAGIC):
        rows = xlsx_rows(first + b"".join(chunks), profile.sheet if profile else None)
        return _parse_table(rows, "xlsx", None, profile, settings)
    if lead in (b"{", b"[") or name.endswith(".json"):
        return _parse_json(first + b"".join(chunks), profile, settings)
    delimiter, rows = csv_rows(text_lines(first, chunks), profile.delimiter if profile else None)
    return _parse_table(rows, "csv", delimiter, profile, settings)


def _settings(profile: FeedProfile | None, mpxn: str | None) -> ParseSettings:
    if profile is None:
        return ParseSettings(default_mpxn=mpxn)
    return ParseSettings(unit=profile.unit or "kWh", calorific_value=profile.calorific_value,
                         day_first=profile.day_first, decimal_comma=profile.decimal_comma,
                         positional=profile.period_order == "positional", default_mpxn=mpxn)


def _parse_json(body: bytes, profile: FeedProfile | None, settings: ParseSettings) -> ParseResult:
    try:
        document = orjson.loads(body.lstrip(b"\xef\xbb\xbf"))
    except ValueError as exc:
        raise UnparseableFile(f"invalid JSON: {exc}") from exc
    results = document.get("results") if isinstance(document, dict) else document
    if not isinstance(results, list):
        raise UnparseableFile("JSON body has no 'results' list")
    if not settings.default_mpxn:
        raise UnparseableFile("Octopus-style JSON does not name the supply point: give the MPxN with the upload")
    first = next((r for r in results if isinstance(r, dict) and isinstance(r.get("interval_start"), str)), {})
    stamp = parse_stamp(first.get("interval_start", ""), True)
    detected = DetectedFormat(
        layout="octopus_json", labelling="interval_start", date_format=stamp.style if stamp else "unknown",
        unit=settings.unit, has_flags=False, source="json",
        columns={"mpxn": "given with the upload", "timestamp": "interval_start", "value": "consumption"},
        profile=profile.name if profile else None)
    result = ParseResult(detected)
    result._items = octopus_items(_counted(result, results), settings.default_mpxn, settings)
    return result


def _counted(result: ParseResult, results: list[object]) -> Iterator[object]:
    for item in results:
        result.rows_read += 1
        yield item


def _parse_table(rows: Iterator[Row], source: str, delimiter: str | None, profile: FeedProfile | None,
                 settings: ParseSettings) -> ParseResult:
    header, header_row, rows = _find_header(rows, profile, settings)
    cols = classify(header, profile)
    sample = [r for _, r in zip(range(SAMPLE_ROWS), rows)]
    layout = _layout(cols, sample, profile)
    date_col = cols.roles.get("date", cols.roles.get("timestamp"))
    date_format = _date_format([cell(cells, date_col) for _, cells in sample if cells], settings.day_first)
    header_text = " ".join(header)
    parse_one: Callable[[int, list[str]], object]
    finish: Callable[[], Iterable[ParsedItem]] = lambda: ()
    if layout == "register":
        unit = (profile.unit if profile and profile.unit in ("m3", "kWh") else None) \
            or register_unit_from_text(header_text) or "m3"
        labelling: Labelling = "interval_start"
        parse_one = RegisterRowParser(cols, unit, settings).parse  # type: ignore[arg-type]
    else:
        unit = settings.unit if profile and profile.unit else \
            (unit_from_text(cols.name("value") or "") or unit_from_text(header_text) or "kWh")
        settings = ParseSettings(unit, settings.calorific_value, settings.day_first, settings.decimal_comma,
                                 settings.positional, settings.default_mpxn)
        if layout == "wide":
            labelling = (profile.labelling if profile and profile.labelling else None) or cols.labelling \
                or "interval_start"
            wide = WideRowParser(cols, labelling, settings)
            parse_one = wide.parse
        else:
            labelling = _long_labelling(cols, sample, profile, settings)
            parser = LongRowParser(cols, labelling, settings)
            parse_one, finish = parser.parse, parser.grouper.finish
    detected = DetectedFormat(
        layout=layout, labelling=labelling, date_format=date_format, unit=unit,
        has_flags=bool(cols.flags) or "quality" in cols.roles, columns=_column_report(cols),
        source=source,  # type: ignore[arg-type]
        delimiter=delimiter, header_row=header_row, profile=profile.name if profile else None)
    result = ParseResult(detected)
    if layout == "wide" and isinstance(rows, CsvSource) and wide.reads_in_bulk:
        result._items = _wide_items(result, sample, rows, header, wide)
    else:
        result._items = _items(result, chain(sample, rows), header, parse_one, finish)
    return result


def _items(result: ParseResult, rows: Iterable[Row], header: list[str],
           parse_one: Callable[[int, list[str]], object],
           finish: Callable[[], Iterable[ParsedItem]]) -> Iterator[ParsedItem]:
    for number, cells in rows:
        yield from _row_items(result, number, cells, header, parse_one)
    yield from finish()


def _row_items(result: ParseResult, number: int, cells: list[str] | None, header: list[str],
               parse_one: Callable[[int, list[str]], object]) -> Iterator[ParsedItem]:
    if cells is None:
        yield RowRejection(number, None, None, "malformed_row", "the line is not valid delimited text")
        return
    if cells == header:  # concatenated files repeat their header
        return
    result.rows_read += 1
    out = parse_one(number, cells)
    if isinstance(out, list):
        yield from out
    else:
        yield out  # type: ignore[misc]


def _wide_items(result: ParseResult, sample: list[Row], source: CsvSource, header: list[str],
                parser: WideRowParser) -> Iterator[StreamItem]:
    """A wide CSV's items: runs of quote-free lines read in bulk, other rows one by one."""
    def one_row(number: int, cells: list[str] | None) -> Iterator[ParsedItem]:
        return _row_items(result, number, cells, header, parser.parse)

    for number, cells in sample:
        yield from one_row(number, cells)
    while True:
        first, lines = source.plain_lines(BULK_LINES)
        if lines:
            before = parser.bulk_rows
            yield from parser.parse_lines(first, lines, source.delimiter, one_row)
            result.rows_read += parser.bulk_rows - before
            continue
        row = next(source, None)
        if row is None:
            return
        yield from one_row(*row)


def _find_header(rows: Iterator[Row], profile: FeedProfile | None,
                 settings: ParseSettings) -> tuple[list[str], int | None, Iterator[Row]]:
    """The header row (searched among the first rows, after any title lines) and the rows after it."""
    if profile and profile.header:
        return list(profile.header), None, rows
    seen: list[Row] = []
    for number, cells in rows:
        seen.append((number, cells))
        if cells is not None and _plausible(classify(cells, profile), profile, settings):
            return cells, number, rows
        if len(seen) >= HEADER_SEARCH_ROWS:
            break
    first = next((cells for _, cells in seen if cells), None)
    shown = ", ".join(first)[:200] if first else "no readable rows"
    raise UnparseableFile("no header row naming an MPxN, a date and half-hourly values was found in the first "
                          f"{HEADER_SEARCH_ROWS} rows (first row: {shown})")


def _plausible(cols: Columns, profile: FeedProfile | None, settings: ParseSettings) -> bool:
    roles = cols.roles
    if "mpxn" not in roles and not settings.default_mpxn:
        return False
    dated = "date" in roles or "timestamp" in roles
    if profile and profile.layout == "register":
        return dated and "value" in roles
    return dated and (len(cols.slots) > 0 or "value" in roles)


def _layout(cols: Columns, sample: list[Row], profile: FeedProfile | None) -> Layout:
    if profile and profile.layout:
        if profile.layout == "octopus_json":
            raise UnparseableFile(f"profile {profile.name!r} expects JSON but the file is tabular")
        return profile.layout
    if cols.slots:
        return "wide"
    roles = cols.roles
    if "timestamp" in roles or "time" in roles or "period" in roles:
        return "long"
    stamps = [parse_stamp(cell(cells, roles["date"])) for _, cells in sample if cells]
    if any(s is not None and s.minute for s in stamps):
        return "long"
    if REGISTER_WORDS.search(normalise(cols.names[roles["value"]])) or "quality" in roles:
        return "register"
    raise UnparseableFile("the file has one value per day, not half-hourly values or register reads")


def _long_labelling(cols: Columns, sample: list[Row], profile: FeedProfile | None,
                    settings: ParseSettings) -> Labelling:
    """Start or end labels: profile, then header words, then the times present per meter."""
    if profile and profile.labelling:
        return profile.labelling
    if "period" in cols.roles:
        return "period_number"
    stamp_col = cols.roles.get("timestamp", cols.roles.get("time"))
    if stamp_col is not None:
        name = normalise(cols.names[stamp_col])
        if START_HINT.search(name):
            return "interval_start"
        if END_HINT.search(name):
            return "interval_end"
    parser = LongRowParser(cols, "interval_start", settings)
    firsts: dict[str, int] = {}
    lasts: dict[str, int] = {}
    for _, cells in sample:
        stamp = parser.stamp(cells) if cells else None
        if stamp is None or stamp.minute is None:
            continue
        if stamp.minute == 1440:
            return "interval_end"
        key = cell(cells, cols.roles.get("mpxn"))  # type: ignore[arg-type]
        minute = _local_minute(stamp)
        firsts.setdefault(key, minute)
        lasts[key] = minute
    votes = sum((m == 30) - (m == 0) for m in firsts.values())
    votes += sum((m == 0) - (m == 1410) for m in list(lasts.values())[:-1])
    return "interval_end" if votes > 0 else "interval_start"


def _local_minute(stamp: Stamp) -> int:
    if stamp.offset_minutes is None:
        return stamp.minute or 0
    local = stamp.instant_utc().astimezone(LONDON)
    return local.hour * 60 + local.minute


def _date_format(texts: list[str], day_first: bool) -> str:
    for text in texts:
        stamp = parse_stamp(text, day_first)
        if stamp is not None:
            return stamp.style
    return "unknown"


def _column_report(cols: Columns) -> dict[str, str]:
    report = {role: cols.names[index] for role, index in cols.roles.items()}
    if cols.slots:
        report["values"] = f"{cols.slots[0].label} .. {cols.slots[-1].label} ({len(cols.slots)} columns)"
    if cols.flags:
        report["flags"] = f"{len(cols.flags)} per-interval flag columns"
    if cols.ignored:
        report["ignored"] = ", ".join(cols.ignored)
    return report
