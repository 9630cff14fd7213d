"""Streaming CSV and XLSX writers for exports (rows in, byte chunks out)."""
from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from itertools import islice

from openpyxl import Workbook

_CSV_ROWS_PER_CHUNK = 5000
_FILE_CHUNK = 1 << 16
XLSX_MAX_ROWS = 1_048_576
"""Excel's sheet limit: longer exports continue on further sheets, each with the header."""


def csv_chunks(header: list, rows: Iterable[list]) -> Iterator[bytes]:
    """CSV in chunks of a few thousand rows; empty cells for gaps."""
    iterator = iter(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    while True:
        batch = list(islice(iterator, _CSV_ROWS_PER_CHUNK))
        writer.writerows(["" if v is None else v for v in row] for row in batch)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        if not batch:
            return


def xlsx_chunks(header: list, rows: Iterable[list], sheet: str = "export") -> Iterator[bytes]:
    """XLSX through openpyxl's write-only mode (constant memory), spooled to a
    temporary file because a ZIP's directory is written last, then streamed."""
    book = Workbook(write_only=True)
    sheets = 1
    ws = book.create_sheet(sheet)
    ws.append(header)
    used = 1
    for row in rows:
        if used == XLSX_MAX_ROWS:
            sheets += 1
            ws = book.create_sheet(f"{sheet}-{sheets}")
            ws.append(header)
            used = 1
        ws.append(row)
        used += 1
    with tempfile.TemporaryFile() as spool:
        book.save(spool)
        spool.seek(0)
        while chunk := spool.read(_FILE_CHUNK):
            yield chunk
