"""Wide CSVs are read in bulk (runs of quote-free lines through pandas' C reader,
services/ingest/domain/wide.py ``parse_lines``). Whatever the file holds, the
bulk reading must give exactly the items, row numbers and reasons the row-by-row
reading gives."""
from __future__ import annotations

import csv
import io
import random

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from services.ingest.domain import parsing
from services.ingest.domain.decoding import CsvSource
from services.ingest.domain.model import MeterDayBlock, ParsedMeterDay, UnparseableFile
from services.ingest.domain.parsing import parse_file

TIMES = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]
HEADERS = {
    "start": ["MPAN", "Date", *TIMES],
    "end": ["MPAN", "Date", *TIMES[1:], "24:00"],
    "extras": ["Site", "MPAN", "Postcode", "Date", "Units", *TIMES, "Total"],
    "numbered": ["MPRN", "Read Date", *[f"HH{n:02d}" for n in range(1, 51)]],
    "flags": ["MPAN", "Date", *[c for t in [*TIMES[1:], "24:00"] for c in (t, "Flag")]],
}
FLAGS = ["A", "E", "", " e", "Est", "x", "actual", "substituted"]
DATES = ["2019-11-13", "13/11/2019", "2019-10-27", "2019-03-31", "Nov 13 2019 12:00AM", "2019-02-30", "soon", ""]
number_text = st.one_of(
    st.floats(min_value=0, max_value=1e4, allow_nan=False).map(repr),
    st.floats(min_value=-1e3, max_value=1e6, allow_nan=False).map(lambda x: f"{x:.3f}"),
    st.integers(0, 10**20).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: f"{x:.17e}"),
)
odd_text = st.sampled_from(["", " ", "  1.5", "1.5 ", "-", "n/a", "nan", "-nan", "NaN", "inf", "-Infinity", "1e400",
                            "abc", "1_0", ".", "e5", "0x10", "+1.5", "1.", "-0", "1,5", '"2.5"', '"1,234.5"', "١"])
missing_text = st.sampled_from(["", "  "])  # "nan", "-", "n/a" and the like are among odd_text
cell_styles = {  # most rows of real files are clean or have gaps: those are what bulk reading takes
    "clean": number_text,
    "gaps": st.one_of(*[number_text] * 7, missing_text),
    "odd": st.one_of(number_text, number_text, number_text, odd_text),
}


@st.composite
def wide_files(draw, d_plus_1: bool = False):
    """Wide files of every kind of row; ``d_plus_1``: mostly rows of one date and
    unit for many meters, as a daily file holds (which bulk reading takes on whole
    columns), now and then with a gap, an odd cell, an odd row or a meter-day again."""
    layout = draw(st.sampled_from(sorted(HEADERS)))
    file_date, file_unit = draw(st.sampled_from(DATES[:5])), draw(st.sampled_from(["kWh", "Wh", "m3", ""]))
    header = HEADERS[layout]
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    lines = [delimiter.join(header)]
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.sampled_from(["row"] * (200 if d_plus_1 else 8) + ["blank", "header", "short", "long", "separators"]))
        if kind == "blank":
            lines.append("")
        elif kind == "header":
            lines.append(delimiter.join(header))
        elif kind == "separators":
            lines.append(delimiter * (len(header) - 1))
        else:
            width = len(header) + {"row": 0, "short": -draw(st.integers(1, 5)), "long": draw(st.integers(1, 3))}[kind]
            style = cell_styles[draw(st.sampled_from(["clean"] * (200 if d_plus_1 else 3) + ["gaps"] * 3 + ["odd"]))]
            cells = [draw(style) for _ in range(width)]
            mpxn_column = next(i for i, h in enumerate(header) if h.startswith("MP"))
            date_column = next(i for i, h in enumerate(header) if h.endswith("Date"))
            if d_plus_1 and len(lines) > 1 and draw(st.integers(0, 100)) == 0:  # a meter-day again, maybe revised
                again = lines[draw(st.integers(1, len(lines) - 1))]
                lines.append(again.rpartition(delimiter)[0] + delimiter + draw(number_text) if draw(st.booleans())
                             else again)
                continue
            if d_plus_1 and mpxn_column < width and date_column < width:
                cells[mpxn_column] = f"{2000000000000 + len(lines)}" if draw(st.integers(0, 100)) else \
                    draw(st.sampled_from([" 12 3456 7890 123", "'2000000000099", "2000000000098.0", ""]))
                cells[date_column] = file_date
            if not d_plus_1 and mpxn_column < width:
                cells[mpxn_column] = draw(st.sampled_from(["2000000000001", "2000000000002", "2000000000003",
                                                           " 12 3456 7890 123", ""]))
            if not d_plus_1 and date_column < width:
                cells[date_column] = draw(st.sampled_from(DATES[:1] * 6 + DATES))
            if layout == "flags":
                for i in range(3, width, 2):
                    cells[i] = draw(st.sampled_from(FLAGS))
            if layout == "extras" and width > 4 and (d_plus_1 or draw(st.booleans())):
                cells[4] = file_unit if d_plus_1 and draw(st.integers(0, 30)) else \
                    draw(st.sampled_from(["kWh", "Wh", "m3", "", "gallons"]))
            lines.append(delimiter.join(cells))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


def _items(text: str, monkeypatch, bulk_lines: int):
    """(what parsing gives, the meter-days read in bulk)."""
    monkeypatch.setattr(parsing, "SAMPLE_ROWS", 2)
    monkeypatch.setattr(parsing, "BULK_LINES", bulk_lines)
    try:
        result = parse_file(text.encode(), "file.csv")
    except UnparseableFile as exc:
        return exc.reason, []
    items, bulk_days = [], []
    for item in result.stream():
        if isinstance(item, MeterDayBlock):
            bulk_days += item.days()
            items += item.days()
        else:
            items.append(item)
    return (result.detected, result.rows_read, [repr(i) for i in items]), bulk_days  # repr: tells -0.0 from 0.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wide_files(), st.integers(1, 9))
def test_bulk_reading_gives_what_row_by_row_reading_gives(monkeypatch, text, bulk_lines):
    bulk, bulk_days = _items(text, monkeypatch, bulk_lines)
    assert bulk == _items(text, monkeypatch, 0)[0]  # 0: every row by the csv module
    gaps = any(None in d.values for d in bulk_days)
    event(f"meter-days read in bulk: {'none' if not bulk_days else 'with gaps' if gaps else 'some'}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wide_files(d_plus_1=True), st.integers(1, 60))
def test_bulk_reading_of_daily_files_gives_what_row_by_row_reading_gives(monkeypatch, text, bulk_lines):
    blocks = []
    plain_block = parsing.WideRowParser._plain_block
    monkeypatch.setattr(parsing.WideRowParser, "_plain_block",
                        lambda self, *args: blocks.append(plain_block(self, *args)) or blocks[-1])
    bulk, _ = _items(text, monkeypatch, bulk_lines)
    assert bulk == _items(text, monkeypatch, 0)[0]
    event(f"lines taken as one block: {'some' if any(blocks) else 'none'}")


def test_bulk_reading_reads_a_clean_file_in_bulk(monkeypatch):
    rows = [",".join(["MPAN", "Date", *TIMES])] + [
        ",".join([f"20000000000{i:02d}", "2019-11-13", *(["0.5"] * 47), "" if i % 2 else "0.5"]) for i in range(30)]
    monkeypatch.setattr(parsing, "SAMPLE_ROWS", 2)
    calls = []
    bulk = parsing.WideRowParser.parse_lines
    monkeypatch.setattr(parsing.WideRowParser, "parse_lines", lambda self, *args: calls.append(self) or bulk(self, *args))
    result = parse_file("\n".join(rows).encode(), "file.csv")
    items = list(result)
    assert len(items) == 30 and all(isinstance(i, ParsedMeterDay) for i in items)
    assert [i.values[-1] for i in items[:4]] == [0.5, None, 0.5, None]  # a blank cell is a missing value
    assert items[1].quality == "A" * 47 + "-"
    assert result.rows_read == 30
    assert calls and calls[0].bulk_rows == 28  # all but the two sample rows


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(number_text, odd_text), min_size=1, max_size=20))
def test_the_c_reader_reads_every_plain_number_as_float_does(cells):
    """pandas >= 3.1 converts with one exact converter; a number it reads must be float() of the cell."""
    cells = [c for c in cells if '"' not in c and "," not in c]  # lines with these are not read in bulk
    try:
        read = pd.read_csv(io.StringIO("\n".join(f"x,{c}" for c in cells)), header=None, names=[0, 1], usecols=[1],
                           dtype="float64", quoting=3, skipinitialspace=True, keep_default_na=False,
                           na_values=[""], skip_blank_lines=False, engine="c")[1].tolist()
    except ValueError:
        return  # the block is read row by row
    for cell, value in zip(cells, read):
        if value == value and abs(value) != float("inf"):
            assert repr(value) == repr(float(cell)), cell


@pytest.mark.parametrize("line", ["a,b,c", " a, b,\tc", "1.5,  ,x ", "x,,"])
def test_a_quote_free_line_splits_as_the_csv_module_reads_it(line):
    source = CsvSource(iter([line, line]), ",", 0)
    assert source.plain_lines(1) == (1, [line])
    assert next(source) == (2, [c.lstrip(" ") for c in line.split(",")])


def test_plain_lines_stop_before_a_line_with_a_quote():
    source = CsvSource(iter(["a,b", 'c,"d', 'e",f', "g,h"]), ",", 0)
    assert source.plain_lines(10) == (1, ["a,b"])
    assert source.plain_lines(10) == (2, [])
    assert next(source) == (3, ["c", "de", "f"])  # one row over two lines, numbered by its last
    assert source.plain_lines(10) == (4, ["g,h"])


@pytest.mark.parametrize("layout", sorted(HEADERS))
def test_bulk_reading_of_a_large_mostly_clean_file_matches(monkeypatch, layout):
    """Hypothesis keeps its files small; this one has blocks of hundreds of lines
    with a few gaps, flags and odd rows among them."""
    rng = random.Random(layout)
    header = HEADERS[layout]
    lines = [",".join(header)]
    for n in range(600):
        cells = [f"{rng.uniform(0, 5):.3f}" if rng.random() > 0.02 else rng.choice(["", " "]) for _ in header]
        cells[0], cells[1] = f"20000000{n:05d}", "2019-11-13"
        if layout == "extras":
            cells[1], cells[3], cells[4] = f"20000000{n:05d}", "13/11/2019", rng.choice(["kWh", "Wh", "m3"])
        if layout == "flags":
            cells[3::2] = [rng.choice(FLAGS) for _ in cells[3::2]]
        if layout == "numbered":  # a 48-period day: HH49 and HH50 blank, or not (then rejected)
            cells[-2:] = ["", " "] if rng.random() > 0.01 else ["1", ""]
        if rng.random() < 0.01:
            cells[5] = rng.choice(["abc", "inf", "-", '"1.5"'])
        lines.append(",".join(cells))
    text = "\n".join(lines)
    bulk, bulk_days = _items(text, monkeypatch, 100)
    assert bulk == _items(text, monkeypatch, 0)[0]
    assert len(bulk_days) > 400 and any(None in d.values for d in bulk_days)


def test_plain_lines_leave_a_line_too_long_for_the_csv_reader_to_it():
    long = "x" * (csv.field_size_limit() + 1)
    source = CsvSource(iter(["a,b", long]), ",", 0)
    assert source.plain_lines(10) == (1, ["a,b"])
    assert next(source) == (2, None)  # the reader's error: a malformed row
