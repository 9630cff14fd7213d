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
from itertools import chain, islice
from typing import Iterable, Iterator

from services.ingest.domain.model import UnparseableFile

Row = tuple[int, list[str] | None]  # (row number, cells) - None when the line is not valid CSV
_SEP_LINE = re.compile(r'^"?sep=(.)"?$', re.I)
_DELIMITERS = (",", ";", "\t", "|")


def split_lines(chunks: Iterable[bytes]) -> Iterator[list[bytes]]:
    """Physical lines of a byte stream, a list per chunk: CRLF, LF and lone CR all
    end a line; NULs are dropped.

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
        if parts:
            yield parts
    if pending:
        parts = pending.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        if parts[-1] == b"":
            parts.pop()
        yield parts


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
    for raws in split_lines(chunks):
        try:  # a chunk's lines at once: one decode, not one per line
            text = b"\n".join(raws).decode("utf-8")
        except UnicodeDecodeError:
            text = None
        lines = text.split("\n") if text is not None else [_decoded(raw) for raw in raws]
        if text is None or "\ufeff" in text:
            lines = [line[1:] if line.startswith("\ufeff") else line for line in lines]
        yield from lines


def _decoded(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


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


def csv_rows(lines: Iterator[str], delimiter: str | None) -> tuple[str, CsvSource]:
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
    return delimiter, CsvSource(chain(head, lines), delimiter, skip_to)


class CsvSource:
    """The rows of delimited text as the csv module reads them, numbered by their
    last physical line; blank rows and the first ``skip`` lines are left out.

    Between rows, :meth:`plain_lines` hands out the next raw lines instead, up to
    the first that holds a quote character: such a line is one row, and splitting
    it on the delimiter (spaces after a delimiter dropped) is exactly the csv
    module's reading, so a caller may read a run of them in bulk.
    """

    def __init__(self, lines: Iterator[str], delimiter: str, skip: int) -> None:
        self.delimiter = delimiter
        self.line_num = 0
        self._lines = lines
        self._held: list[str] = []  # a line plain_lines looked at but did not take
        self._skip = skip
        self._reader = csv.reader(self._feed(), delimiter=delimiter, skipinitialspace=True)

    def _next_line(self) -> str | None:
        return self._held.pop() if self._held else next(self._lines, None)

    def _feed(self) -> Iterator[str]:
        while (line := self._next_line()) is not None:
            self.line_num += 1
            yield line

    def __iter__(self) -> Iterator[Row]:
        return self

    def __next__(self) -> Row:
        while True:
            try:
                cells = next(self._reader)
            except csv.Error:
                return self.line_num, None
            if self.line_num <= self._skip or not cells or not any(c.strip() for c in cells):
                continue
            return self.line_num, cells

    def plain_lines(self, limit: int) -> tuple[int, list[str]]:
        """(number of the first line, up to ``limit`` raw lines without a quote
        character, none too long for the csv reader); no lines when the next line
        is not such a line or the text has ended."""
        while self.line_num < self._skip and self._next_line() is not None:
            self.line_num += 1
        first = self.line_num + 1
        longest = csv.field_size_limit()  # a longer field is an error of the csv reader's: leave it to the reader
        taken = self._held[::-1][:limit]
        del self._held[len(self._held) - len(taken):]
        taken += islice(self._lines, limit - len(taken))
        if '"' in "".join(taken) or (taken and max(map(len, taken)) > longest):  # checked at once: rarely true
            cut = next(i for i, line in enumerate(taken) if '"' in line or len(line) > longest)
            self._held += reversed(taken[cut:])
            del taken[cut:]
        self.line_num += len(taken)
        return first, taken


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
