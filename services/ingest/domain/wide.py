"""Wide rows: one meter-day per row, one column per half hour (plus optional flags)."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import NamedTuple

import numpy as np
import pandas as pd

from services.ingest.domain.common import ParseSettings, cell, clean_mpxn, quality_char, row_unit
from services.ingest.domain.detect import Columns, Slot
from services.ingest.domain.model import (
    Labelling, MeterDayBlock, ParsedItem, ParsedMeterDay, Problem, RowRejection, SourceUnit, StreamItem,
)
from services.ingest.domain.timestamps import parse_stamp
from services.ingest.domain.units import MISSING_TOKENS, parse_number
from shared.hh import LONDON, encode_rows, period_starts_utc, periods_in_day

SMALLEST_BULK = 32  # lines: a block with an odd cell is halved down to this
REPEATED_HOUR = (60, 90)  # local start minutes of the autumn extra hour
_MASK64 = (1 << 64) - 1
_FLOAT64 = np.dtype("float64")  # not "float64": pandas would look the name up for every column of every read


@dataclass(frozen=True, slots=True)
class DayPlan:
    """How a row's columns map to the settlement periods of one date."""

    columns: list[int | None]  # value column per period; None: the file has no column for it
    flags: list[int | None]
    labels: list[str]
    orphans: list[Slot]  # columns for times that do not exist on this date: must be blank
    duplicates: list[tuple[int, int, str]]  # (kept column, repeated column, label)
    simple: bool  # one column per period, nothing orphaned or repeated
    absent: list[str]  # labels of periods the file has no column for
    cells: Callable[[list[str]], Sequence[str]]  # the row's value cells, one per period

    @classmethod
    def build(cls, columns: list[int | None], flags: list[int | None], labels: list[str], orphans: list[Slot],
              duplicates: list[tuple[int, int, str]], simple: bool) -> DayPlan:
        absent = [label for label, c in zip(labels, columns) if c is None]
        if simple and len(columns) > 1:
            return cls(columns, flags, labels, orphans, duplicates, simple, absent, itemgetter(*columns))  # one C call

        def cells(row: list[str]) -> list[str]:
            return [row[c] if c is not None else "" for c in columns]

        return cls(columns, flags, labels, orphans, duplicates, simple, absent, cells)


class WideRowParser:
    """Turns one wide row into a ParsedMeterDay or a RowRejection."""

    def __init__(self, cols: Columns, labelling: Labelling, settings: ParseSettings) -> None:
        self._cols = cols
        self._settings = settings
        self._mpxn = cols.roles.get("mpxn")
        self._date = cols.roles.get("date", cols.roles.get("timestamp"))
        self._unit_col = cols.roles.get("unit")
        self._row_quality = cols.roles.get("quality")
        self._width = max([s.column for s in cols.slots] + list(cols.flags.values()) + list(cols.roles.values())) + 1
        self._positional = labelling == "period_number" or settings.positional
        self._by_start: dict[tuple[int, int], list[Slot]] = {}
        for slot in [] if self._positional else cols.slots:
            self._by_start.setdefault(_start_key(slot, labelling), []).append(slot)
        self._plans: dict[date, DayPlan] = {}
        self._seen: dict[int, int] = {}
        # Bulk reading (parse_lines) covers files without a row quality column or decimal commas.
        self.reads_in_bulk = bool(cols.slots) and self._row_quality is None and not settings.decimal_comma
        self.bulk_rows = 0  # rows parse_lines read from its matrix
        self._value_columns = sorted(s.column for s in cols.slots)
        self._flag_columns = sorted(set(cols.flags.values()))
        self._head = max(v for v in (self._mpxn, self._date, self._unit_col) if v is not None) + 1 \
            if self._date is not None else 0

    def parse(self, number: int, row: list[str]) -> ParsedMeterDay | RowRejection:
        if len(row) < self._width:
            row = row + [""] * (self._width - len(row))
        mpxn = clean_mpxn(row[self._mpxn]) if self._mpxn is not None else (self._settings.default_mpxn or "")
        if not mpxn:
            return RowRejection(number, None, None, "missing_mpxn", "the row has no MPxN")
        stamp = parse_stamp(cell(row, self._date), self._settings.day_first)
        if stamp is None:
            return RowRejection(number, mpxn, None, "bad_date", f"unrecognised date {cell(row, self._date)!r}")
        day = stamp.day
        unit = row_unit(cell(row, self._unit_col), self._settings.unit)
        if unit is None:
            return RowRejection(number, mpxn, day, "bad_unit", f"unknown unit {cell(row, self._unit_col)!r}")
        plan = self._plans.get(day) or self._plan(day)
        problems: list[Problem] = []
        source = self._numbers(row, plan, problems)
        factor = self._settings.factor(unit)
        values = source if factor == 1.0 else [None if v is None else v * factor for v in source]
        quality = self._quality(row, plan, source)
        self._structure_problems(row, plan, day, problems)
        self._seen_before(number, mpxn, day, _comparable(np.array(source, dtype="<f8")).tobytes(), quality, problems)
        return ParsedMeterDay(number, mpxn, day, values, quality, unit, source, tuple(problems))

    def parse_lines(self, first: int, lines: list[str], delimiter: str,
                    one_row: Callable[[int, list[str]], Iterable[ParsedItem]]) -> Iterator[StreamItem]:
        """The items of consecutive lines holding no quote character (numbered from
        ``first``), in line order: exactly what :meth:`parse` gives row by row, with
        runs of meter-days read in bulk given as MeterDayBlocks.

        The value cells of the block are read as one float matrix by pandas' C reader
        (its converter rounds exactly as ``float()`` does); a row whose cells are
        finite numbers or missing-value tokens, for a day with a column per period
        and blank columns for times the day does not have, becomes a meter-day from
        that matrix. Every other line (odd width, bad date, a repeated header,
        infinities, ...) goes through ``one_row`` with its cells as the csv module
        reads them; blank lines are skipped as the csv reader skips them.
        """
        width = len(self._cols.names)
        bulk = [i for i, line in enumerate(lines) if line.count(delimiter) == width - 1]
        read = self._value_matrix([lines[i] for i in bulk], delimiter, width) if bulk else None
        if read is None and len(lines) > SMALLEST_BULK:  # an odd cell: halve the block, so it costs only its part
            half = len(lines) // 2
            yield from self.parse_lines(first, lines[:half], delimiter, one_row)
            yield from self.parse_lines(first + half, lines[half:], delimiter, one_row)
            return
        infinite = np.isinf(read[0]).any(axis=1).tolist() if read is not None else []
        shared: dict = {}
        if read is not None and len(bulk) == len(lines) and not any(infinite):
            block = self._plain_block(first, lines, delimiter, read, shared)  # type: ignore[arg-type]
            if block is not None:
                yield block
                return
        row_of = dict(zip(bulk, range(len(bulk)))) if read is not None else {}
        run: list[_BulkRow] = []  # meter-days read from the matrix, not yet given
        for i, line in enumerate(lines):
            number = first + i
            k = row_of.get(i)
            day = self._bulk_row(number, line, delimiter, read, k, shared) \
                if k is not None and not infinite[k] else None  # type: ignore[arg-type]
            if day is not None:
                self.bulk_rows += 1
                if run and run[0].selection is not day.selection:
                    yield _block(run)
                    run = []
                run.append(day)
            elif line.replace(delimiter, "").strip():  # the csv reader skips blank lines
                if run:
                    yield _block(run)
                    run = []
                yield from one_row(number, [c.lstrip(" ") for c in line.split(delimiter)])
        if run:
            yield _block(run)

    def _value_matrix(self, lines: list[str], delimiter: str, width: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The value cells of lines of ``width`` cells as float64 (blank: NaN) and
        their flag cells as text, or None when some value cell is not a plain number
        (then every row is read one by one)."""
        values = self._value_columns
        try:
            frame = pd.read_csv(
                io.StringIO("\n".join(lines)), sep=delimiter, header=None, names=range(width),
                usecols=values + self._flag_columns, dtype=dict.fromkeys(values, _FLOAT64) | dict.fromkeys(
                    self._flag_columns, str), quoting=csv.QUOTE_NONE, skipinitialspace=True, keep_default_na=False,
                na_values=dict.fromkeys(values, [""]), skip_blank_lines=False, engine="c")
        except (ValueError, pd.errors.ParserError):
            return None
        return frame[values].to_numpy(dtype="float64"), frame[self._flag_columns].to_numpy()

    def _plain_block(self, first: int, lines: list[str], delimiter: str, read: tuple[np.ndarray, np.ndarray],
                     shared: dict) -> MeterDayBlock | None:
        """The lines as one block, taken on whole columns, when every line is a meter-day
        of one date and unit from the matrix (a missing value only where the cell is a
        missing-value token), not seen before in the file: what a D+1 file holds. None
        otherwise (nothing is recorded then), and :meth:`_bulk_row` takes the lines one
        by one. Gives what it would give."""
        if self._mpxn is None or self._date is None:
            return None
        heads = [line.split(delimiter, self._head) for line in lines]
        cells_of_day = {(head[self._date], cell(head, self._unit_col)) for head in heads}
        if len(cells_of_day) != 1:
            return None
        (cells,) = cells_of_day
        of_day = shared.get(cells) or shared.setdefault(cells, self._bulk_day(*cells))
        if of_day[0] is None or of_day[2].orphans:
            return None
        day, unit, plan, factor, key = of_day
        selection = shared.get(key) or shared.setdefault(key, _Selection.of(self, read, plan, factor))
        mpxns = [m if m.isdigit() else clean_mpxn(m) for m in (head[self._mpxn] for head in heads)]
        if not all(mpxns):
            return None
        qualities = selection.qualities
        if any(selection.gappy):
            qualities = list(qualities)
            for k in [k for k, gappy in enumerate(selection.gappy) if gappy]:
                quality = self._gappy_quality(lines[k].split(delimiter), selection.source[k], plan, qualities[k])
                if quality is None:
                    return None
                qualities[k] = quality
        keys = [_seen_key(mpxn, day) for mpxn in mpxns]
        if len(set(keys)) < len(keys) or not self._seen.keys().isdisjoint(keys):
            return None
        n = len(lines)
        numbers = range(first, first + n)
        self._seen.update(zip(keys, map(_seen_entry, numbers, selection.comparable, qualities)))
        self.bulk_rows += n
        return MeterDayBlock(list(numbers), mpxns, [day] * n, selection.kwh, qualities, [unit] * n,
                             selection.source, [()] * n)

    @staticmethod
    def _gappy_quality(cells: list[str], source: np.ndarray, plan: DayPlan, quality: str) -> str | None:
        """The quality of a matrix row with missing values ("-" for each), or None when
        a value is NaN for a cell that is not a missing-value token (parse() reads the
        row then: it takes nothing else as missing)."""
        values = source.tolist()
        if any(v != v and cells[c].strip().lower() not in MISSING_TOKENS  # type: ignore[index]
               for v, c in zip(values, plan.columns)):
            return None
        return "".join("-" if v != v else q for v, q in zip(values, quality))

    def _bulk_row(self, number: int, line: str, delimiter: str, read: tuple[np.ndarray, np.ndarray], k: int,
                  shared: dict) -> _BulkRow | None:
        """Row ``k`` of the block's matrix as a meter-day, or None when it needs :meth:`parse`.
        (The head cells need no leading-space strip: every reader of them strips.)
        ``shared`` caches, per block, what rows of one date and unit cell share, and
        the matrix per column selection and unit factor."""
        head = line.split(delimiter, self._head)
        mpxn = clean_mpxn(head[self._mpxn]) if self._mpxn is not None else (self._settings.default_mpxn or "")
        cells_of_day = (head[self._date], cell(head, self._unit_col))  # type: ignore[index]
        of_day = shared.get(cells_of_day) or shared.setdefault(cells_of_day, self._bulk_day(*cells_of_day))
        if not mpxn or of_day[0] is None:
            return None
        day, unit, plan, factor, key = of_day
        selection = shared.get(key) or shared.setdefault(key, _Selection.of(self, read, plan, factor))
        quality = selection.qualities[k]
        gappy = selection.gappy[k]
        cells = line.split(delimiter) if gappy or plan.orphans else []
        if plan.orphans and any(cells[s.column].strip().lower() not in MISSING_TOKENS for s in plan.orphans):
            return None  # parse() reports the values for times the day does not have
        if gappy:  # parse() reads a missing-value token as None, and nothing else as NaN
            quality = self._gappy_quality(cells, selection.source[k], plan, quality)  # type: ignore[assignment]
            if quality is None:
                return None
        problems: list[Problem] = []
        self._seen_before(number, mpxn, day, selection.comparable[k], quality, problems)
        return _BulkRow(selection, k, number, mpxn, day, unit, quality, tuple(problems))

    def _bulk_day(self, date_text: str, unit_text: str) -> tuple:
        """(day, unit, plan, unit factor, selection key) of a date and unit cell, or
        (None,) when their rows need :meth:`parse` (the file lacks or repeats a
        period's column). Days whose plans pick the same cells share a selection."""
        stamp = parse_stamp(date_text, self._settings.day_first)
        unit = row_unit(unit_text, self._settings.unit)
        if stamp is None or unit is None:
            return (None,)
        plan = self._plans.get(stamp.day) or self._plan(stamp.day)
        if plan.duplicates or plan.absent:
            return (None,)
        factor = self._settings.factor(unit)
        return stamp.day, unit, plan, factor, (tuple(plan.columns), tuple(plan.flags), factor)

    def _numbers(self, row: list[str], plan: DayPlan, problems: list[Problem]) -> list[float | None]:
        cells = plan.cells(row)
        if plan.simple:
            try:  # fast path for clean files: plain floats, no blanks
                numbers: list[float | None] = list(map(float, cells))
                total = sum(numbers)  # type: ignore[arg-type]
                if total - total == 0:  # rules out nan/inf
                    return numbers
            except ValueError:
                pass
        numbers = []
        plain = not self._settings.decimal_comma  # float() reads a plain cell as parse_number would
        for label, text in zip(plan.labels, cells):
            try:
                if plain and text:
                    try:
                        value = float(text)
                        if value - value == 0:  # finite
                            numbers.append(value)
                            continue
                    except ValueError:
                        pass
                numbers.append(parse_number(text, self._settings.decimal_comma))
            except ValueError:
                problems.append(Problem("non_numeric", f"{text.strip()!r} at {label} is not a number"))
                numbers.append(None)
        return numbers

    def _quality(self, row: list[str], plan: DayPlan, source: list[float | None]) -> str:
        whole_row = quality_char(cell(row, self._row_quality)) if self._row_quality is not None else None
        if not self._cols.flags and whole_row is None:
            if None not in source:
                return "A" * len(source)
            return "".join("-" if v is None else "A" for v in source)
        default = whole_row or "A"
        return "".join(
            "-" if v is None else (quality_char(row[f]) if f is not None else None) or default
            for v, f in zip(source, plan.flags)
        )

    def _structure_problems(self, row: list[str], plan: DayPlan, day: date, problems: list[Problem]) -> None:
        count = len(plan.columns)
        filled = [s.label for s in plan.orphans if row[s.column].strip().lower() not in MISSING_TOKENS]
        if filled:
            problems.append(Problem("period_count", f"{day} has {count} periods but the row has values for "
                                                    f"{', '.join(filled)}, which do not exist that day"))
        if plan.absent:
            problems.append(Problem("period_count", f"{day} has {count} periods but the file has no column "
                                                    f"for {', '.join(plan.absent)}"))
        for kept, repeated, label in plan.duplicates:
            if row[kept].strip() != row[repeated].strip():
                problems.append(Problem("conflicting_duplicate",
                                        f"{label} appears twice with different values "
                                        f"({row[kept].strip()!r} and {row[repeated].strip()!r})"))

    def _seen_before(self, number: int, mpxn: str, day: date, values: bytes, quality: str,
                     problems: list[Problem]) -> None:
        """The same meter-day twice in one file is fine if identical, a conflict otherwise.

        Keeps one packed int per meter-day (row number and a 64-bit content digest,
        keyed by a 64-bit hash of the meter-day) rather than the values, so memory
        stays near 100 bytes per meter-day; a hash collision is ~1e-10 at 100k meters.
        ``values`` are the bytes of the meter-day's values as :func:`_comparable` gives them.
        """
        entry = _seen_entry(number, values, quality)
        first = self._seen.setdefault(_seen_key(mpxn, day), entry)
        if first & _MASK64 != entry & _MASK64:
            problems.append(Problem("conflicting_duplicate",
                                    f"row {first >> 64} has different values for {mpxn} on {day}"))

    def _plan(self, day: date) -> DayPlan:
        if self._positional:
            plan = self._positional_plan(day)
        else:
            plan = self._labelled_plan(day)
        self._plans[day] = plan
        return plan

    def _positional_plan(self, day: date) -> DayPlan:
        count = periods_in_day(day)
        slots = sorted(self._cols.slots, key=lambda s: s.period or 0) if self._cols.slots[0].period else \
            list(self._cols.slots)
        columns: list[int | None] = [s.column for s in slots[:count]]
        labels = [s.label for s in slots[:count]]
        labels += [f"period {i + 1}" for i in range(len(columns), count)]
        columns += [None] * (count - len(columns))
        flags = [self._cols.flags.get(c) if c is not None else None for c in columns]
        return DayPlan.build(columns, flags, labels, slots[count:], [], len(slots) == count)

    def _labelled_plan(self, day: date) -> DayPlan:
        local = [(t.hour * 60 + t.minute, t.fold) for t in (p.astimezone(LONDON) for p in period_starts_utc(day))]
        columns: list[int | None] = []
        labels: list[str] = []
        duplicates: list[tuple[int, int, str]] = []
        for key in local:
            slots = self._by_start.get(key, [])
            columns.append(slots[0].column if slots else None)
            labels.append(slots[0].label if slots else _wall_label(key))
            duplicates += [(slots[0].column, s.column, s.label) for s in slots[1:]]
        used = set(columns) | {d[1] for d in duplicates}
        orphans = [s for s in self._cols.slots if s.column not in used]
        flags = [self._cols.flags.get(c) if c is not None else None for c in columns]
        simple = not orphans and not duplicates and None not in columns
        return DayPlan.build(columns, flags, labels, orphans, duplicates, simple)


class _Selection(NamedTuple):
    """A bulk block's matrix for one column selection and unit factor: the values
    as given and in kWh (numpy's products are the same IEEE products parse()
    takes), per row the quality from the flag cells (as if every value were
    present) and whether a value is missing, and each row's values as _comparable bytes."""

    source: np.ndarray
    kwh: np.ndarray
    qualities: list[str]
    gappy: list[bool]
    comparable: list[bytes]

    @classmethod
    def of(cls, parser: WideRowParser, read: tuple[np.ndarray, np.ndarray], plan: DayPlan, factor: float) -> _Selection:
        matrix, flags = read
        selected = matrix[:, [parser._value_columns.index(c) for c in plan.columns]]  # type: ignore[arg-type]
        with np.errstate(over="ignore"):  # a product too large is inf, as parse() gets it
            kwh = selected * factor if factor != 1.0 else selected
        gappy = np.isnan(selected).any(axis=1).tolist()
        if not any(f is not None for f in plan.flags):
            qualities = ["A" * len(plan.columns)] * len(matrix)
        else:
            positions = [parser._flag_columns.index(f) if f is not None else None for f in plan.flags]
            texts = np.array([flags[:, p] if p is not None else np.full(len(flags), "", dtype=object)
                              for p in positions], dtype=object).T
            char = {text: quality_char(text) or "A" for text in set(texts.ravel().tolist())}
            qualities = ["".join(map(char.__getitem__, row)) for row in texts.tolist()]
        return cls(selected, kwh, qualities, gappy, encode_rows(_comparable(selected)))


class _BulkRow(NamedTuple):
    selection: _Selection
    k: int
    number: int
    mpxn: str
    day: date
    unit: SourceUnit
    quality: str
    problems: tuple[Problem, ...]


def _block(rows: list[_BulkRow]) -> MeterDayBlock:
    """Consecutive meter-days of one selection as a block."""
    selection = rows[0].selection
    ks = [r.k for r in rows]
    source = selection.source[ks]
    kwh = selection.kwh[ks] if selection.kwh is not selection.source else source
    return MeterDayBlock([r.number for r in rows], [r.mpxn for r in rows], [r.day for r in rows], kwh,
                         [r.quality for r in rows], [r.unit for r in rows], source, [r.problems for r in rows])


def _seen_key(mpxn: str, day: date) -> int:
    """A 64-bit hash of a meter-day, keying the file's meter-days seen so far."""
    return hash((mpxn, day))


def _seen_entry(number: int, values: bytes, quality: str) -> int:
    """What is kept of a meter-day seen: its row number above a 64-bit content digest."""
    return (number << 64) | (hash((values, quality)) & _MASK64)


def _comparable(values: np.ndarray) -> np.ndarray:
    """Values (a row or a matrix, NaN = missing) whose bytes are equal exactly when
    the values are: -0.0 is 0.0, and a missing value (which the quality marks) is 0.0."""
    return np.nan_to_num(values.astype("<f8") + 0.0, nan=0.0)


def _start_key(slot: Slot, labelling: Labelling) -> tuple[int, int]:
    """(local start minute, fold) of the interval a slot holds."""
    if slot.minute is None:  # columns 49/50 beside time labels: the repeated autumn hour
        return REPEATED_HOUR[(slot.period or 49) - 49], 1
    start = slot.minute - 30 if labelling == "interval_end" else slot.minute
    return start, int(slot.second)


def _wall_label(key: tuple[int, int]) -> str:
    minute, fold = key
    return f"{minute // 60:02d}:{minute % 60:02d}" + (" (second)" if fold else "")
