"""Bytes to rows: line endings, encodings, spreadsheet artefacts, CSV and XLSX.

Everything is a generator so a large D+1 file flows through line by line.
Row numbers are 1-based physical lines (CSV) or sheet rows (XLSX), which is what
an operator sees when opening the file.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import date, datetime, time
from typing import Iterable, Iterator

from services.ingest.domain.model import UnparseableFile

Row = tuple[int, list[str] | None]  # (row number, cells) - None when the line is not valid CSV
_SEP_LINE = re.compile(r'^"?sep=(.)"?$', re.I)
_DELIMITERS = (",", ";", "\t", "|")


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Physical lines of a byte stream: CRLF, LF and lone CR all end a line; NULs are dropped.

    A chunk ending in CR is held back so a CRLF split across chunks counts once.
    """
    pending = b""
    for chunk in chunks:
        buf = pending + chunk
        if b"\x00" in buf:
            buf = buf.replace(b"\x00", b"")
        cut = len(buf) - 1 if buf.endswith(b"\r") else len(buf)
        head, tail = buf[:cut], buf[cut:]
        if b"\r" in head:
            head = head.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        parts = head.split(b"\n")
        pending = parts.pop() + tail
        yield from parts
    if pending:
        parts = pending.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        if parts[-1] == b"":
            parts.pop()
        yield from parts


def _utf16_to_utf8(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    """Excel "Unicode text" exports are UTF-16; re-encode so one line splitter serves all."""
    decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
    yield decoder.decode(first).encode("utf-8")
    for chunk in rest:
        yield decoder.decode(chunk).encode("utf-8")
    yield decoder.decode(b"", final=True).encode("utf-8")


def text_lines(first: bytes, rest: Iterator[bytes]) -> Iterator[str]:
    """Decoded lines; UTF-8 (BOM stripped) with a per-line cp1252 fallback for legacy exports."""
    chunks: Iterable[bytes]
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        chunks = _utf16_to_utf8(first, rest)
    else:
        chunks = _chain(first, rest)
    for raw in split_lines(chunks):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            line = raw.decode("cp1252", errors="replace")
        yield line[1:] if line.startswith("\ufeff") else line


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first lines most consistently (comma on a tie)."""
    def score(delimiter: str) -> int:
        counts = [line.count(delimiter) for line in lines if line.strip()]
        return min(counts) if counts else 0
    best = max(_DELIMITERS, key=lambda d: (score(d), d == ","))
    return best if score(best) > 0 else ","


def csv_rows(lines: Iterator[str], delimiter: str | None) -> tuple[str, Iterator[Row]]:
    """(delimiter, rows). Honours an Excel ``sep=`` first line; skips blank lines."""
    head: list[str] = []
    for line in lines:
        head.append(line)
        if len([h for h in head if h.strip()]) >= 5:
            break
    first_real = next((i for i, h in enumerate(head) if h.strip()), None)
    skip_to = 0
    if first_real is not None:
        sep = _SEP_LINE.match(head[first_real].strip())
        if sep:
            delimiter = delimiter or sep.group(1)
            skip_to = first_real + 1
    delimiter = delimiter or sniff_delimiter(head[skip_to:])
    return delimiter, _read_csv(_numbered(head, lines), delimiter, skip_to)


def _numbered(head: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from head
    yield from rest


def _read_csv(lines: Iterator[str], delimiter: str, skip: int) -> Iterator[Row]:
    reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield reader.line_num, None
            continue
        if reader.line_num <= skip or not cells or not any(c.strip() for c in cells):
            continue
        yield reader.line_num, cells


def xlsx_rows(data: bytes, sheet: str | None) -> Iterator[Row]:
    """Rows of the first (or named) worksheet, cells rendered as the text a CSV would hold."""
    from openpyxl import load_workbook  # imported lazily: most feeds are CSV

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        worksheet = book[sheet] if sheet else book.worksheets[0]
    except Exception as exc:  # openpyxl raises many types for corrupt archives
        raise UnparseableFile(f"not a readable XLSX workbook: {exc}") from exc
    return _iter_sheet(book, worksheet)


def _iter_sheet(book, worksheet) -> Iterator[Row]:  # type: ignore[no-untyped-def]
    number = 0
    try:
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if any(c.strip() for c in cells):
                yield number, cells
    except Exception:  # a corrupt sheet part surfaces only while streaming it
        yield number + 1, None
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)
