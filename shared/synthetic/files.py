"""Synthetic meter-days rendered as the wide D+1 CSV files data collectors send.

``meterstream replay`` and the load tests feed ingest these files rather
than pre-built events, so the parser, the period-count check and the
clock-change handling are exercised exactly as in production. Output is a
generator of text chunks: a million meter-days never sit in memory at once.

Layout: ``MPAN,Date,00:00,00:30,...,23:30`` with one row per meter-day and
an empty cell for a missing value. A clock-change day has 46 or 50 value
cells; a header written for that day labels them (``01:00 BST``/``01:00
GMT`` for the repeated hour), otherwise rows are ragged under a 48-period
header, as in real multi-day files. Parsers must count cells per row
against the row's date, not trust the header.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Optional

from shared.hh import LONDON, period_starts_utc
from shared.synthetic.meters import MISSING, MeterSpec, SyntheticDay, meter_day

NORMAL_DAY = date(2024, 1, 15)
"""Any 48-period day: labels ragged multi-day files."""


def period_labels(day: date) -> list[str]:
    """Local wall-clock label of each settlement period; a repeated hour carries its zone."""
    local: list[datetime] = [s.astimezone(LONDON) for s in period_starts_utc(day)]
    plain = [f"{t:%H:%M}" for t in local]
    repeated = {label for label, count in Counter(plain).items() if count > 1}
    return [f"{label} {t.tzname()}" if label in repeated else label for label, t in zip(plain, local)]


def header(day: date = NORMAL_DAY, *, flags: bool = False, id_column: str = "MPAN") -> str:
    """The header line (with newline) for a file whose rows are for ``day``."""
    columns = [id_column, "Date"]
    for label in period_labels(day):
        columns += [label, f"{label} Flag"] if flags else [label]
    return ",".join(columns) + "\n"


def row(mpxn: str, day: date, reads: SyntheticDay, *, flags: bool = False, date_format: str = "%Y-%m-%d") -> str:
    """One meter-day as a CSV line: an empty cell where a value is missing."""
    cells = [mpxn, day.strftime(date_format)]
    for value, quality in zip(reads.values, reads.quality):
        cell = "" if value is None else f"{value:.3f}"
        cells += [cell, "" if quality == MISSING else quality] if flags else [cell]
    return ",".join(cells) + "\n"


def wide_csv(
    rows: Iterable[tuple[str, date, SyntheticDay]],
    *,
    header_day: Optional[date] = None,
    flags: bool = False,
    id_column: str = "MPAN",
    date_format: str = "%Y-%m-%d",
    rows_per_chunk: int = 500,
) -> Iterator[str]:
    """Stream a wide CSV as text chunks: the header, then ``rows_per_chunk`` rows at a time.

    ``header_day`` labels the header for a single-day file (46/50 labels on
    clock-change days); leave it out for multi-day files.
    """
    yield header(header_day or NORMAL_DAY, flags=flags, id_column=id_column)
    chunk: list[str] = []
    for mpxn, day, reads in rows:
        chunk.append(row(mpxn, day, reads, flags=flags, date_format=date_format))
        if len(chunk) >= rows_per_chunk:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def wide_csv_for_fleet(fleet: Sequence[MeterSpec], day: date, *, flags: bool = False) -> Iterator[str]:
    """The D+1 file for ``day``: one row per meter, meters with no data that day left out.

    A meter whose whole day is missing has no row, as when a collector had
    nothing to send; partial gaps stay in the row as empty cells.
    """
    reads = ((spec.mpxn, day, meter_day(spec, day)) for spec in fleet)
    present = (r for r in reads if not r[2].fully_missing)
    return wide_csv(present, header_day=day, flags=flags)
