"""Detection on generated variants the fixtures do not contain, plus streaming behaviour."""
from __future__ import annotations

import itertools
import random
from datetime import date, datetime, timedelta

import pytest

from services.ingest.domain.model import ParsedMeterDay, UnparseableFile
from services.ingest.domain.parsing import parse_file
from services.ingest.domain.profiles import FeedProfile, load_profiles

STARTS = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]
ENDS = STARTS[1:] + ["24:00"]
LABELS = {
    "start": (STARTS, "interval_start"),
    "end": (ENDS, "interval_end"),
    "start_compact": ([s.replace(":", "") for s in STARTS], "interval_start"),
    "end_seconds": ([e + ":00" for e in ENDS], "interval_end"),
    "hh": ([f"HH{n:02d}" for n in range(1, 49)], "period_number"),
    "sp": ([f"SP {n}" for n in range(1, 49)], "period_number"),
    "bare": ([str(n) for n in range(1, 49)], "period_number"),
    "range": ([f"{s} - {e}" for s, e in zip(STARTS, ENDS)], "interval_start"),
}
DATES = {"iso": "2019-11-13", "uk": "13/11/2019", "sql": "Nov 13 2019 12:00AM", "named": "13 Nov 2019 00:00:00"}
MPXN_NAMES = ["MPAN", "mpan_core", "Meter Point Reference", "MPRN", "Supply Point"]


def wide_file(labels: list[str], flags: str, delimiter: str, date_text: str, mpxn_name: str,
              extras_first: bool, rows: int = 3) -> bytes:
    value_header: list[str] = []
    for label in labels:
        value_header.append(label)
        if flags == "interleaved":
            value_header.append("A/E")
    if flags == "named":
        value_header += [f"{label} Flag" for label in labels]
    extras = ["Postcode", "Meter Serial"]
    header = (extras if extras_first else []) + [mpxn_name, "Date"] + value_header + ([] if extras_first else extras)
    lines = [delimiter.join(header)]
    for r in range(rows):
        cells: list[str] = []
        values = [f"{r + k / 100:.2f}" for k in range(48)]
        for k, value in enumerate(values):
            cells.append(value)
            if flags == "interleaved":
                cells.append("E" if k == 0 else "A")
        if flags == "named":
            cells += ["E" if k == 0 else "A" for k in range(48)]
        row = [f"{3000000000000 + r}", date_text] + cells
        lines.append(delimiter.join((["LS1 1AA", "X1"] if extras_first else []) + row
                                    + ([] if extras_first else ["LS1 1AA", "X1"])))
    return ("\n".join(lines) + "\n").encode()


CASES = list(itertools.product(LABELS, ["none", "interleaved", "named"], [",", ";", "\t"], DATES))


@pytest.mark.parametrize(("labels", "flags", "delimiter", "date_style"), CASES)
def test_wide_variants_are_detected(labels, flags, delimiter, date_style):
    rng = random.Random(f"{labels}{flags}{delimiter}{date_style}")
    names, labelling = LABELS[labels]
    data = wide_file(names, flags, delimiter, DATES[date_style], rng.choice(MPXN_NAMES), rng.random() < 0.5)
    result = parse_file(data, "variant.csv")
    d = result.detected
    assert (d.layout, d.labelling, d.delimiter) == ("wide", labelling, delimiter)
    assert d.has_flags == (flags != "none")
    items = list(result)
    assert [type(i) for i in items] == [ParsedMeterDay] * 3
    for r, day in enumerate(items):
        assert day.settlement_date == date(2019, 11, 13)
        assert day.values == pytest.approx([r + k / 100 for k in range(48)])
        assert day.quality == ("E" if flags != "none" else "A") + "A" * 47


@pytest.mark.parametrize("labelling", ["interval_start", "interval_end"])
@pytest.mark.parametrize("style", ["%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S"])
def test_long_labelling_inferred_from_times(labelling, style):
    shift = timedelta(minutes=30 if labelling == "interval_end" else 0)
    lines = ["Site MPAN,Reading Time,Usage,Status"]
    for meter in ("3000000000001", "3000000000002", "3000000000003"):
        for k in range(48):
            stamp = datetime(2019, 11, 13) + timedelta(minutes=30 * k) + shift
            lines.append(f"{meter},{stamp.strftime(style)},{k},A")
    result = parse_file("\n".join(lines).encode(), "long.csv")
    assert result.detected.layout == "long" and result.detected.labelling == labelling
    out = list(result)
    assert len(out) == 3 and all(m.values == [float(k) for k in range(48)] for m in out)


def test_long_with_settlement_period_numbers():
    lines = ["MPAN,Settlement Date,Settlement Period,kWh"]
    lines += [f"3000000000009,27/10/2019,{p},{p}" for p in range(1, 51)]
    result = parse_file("\n".join(lines).encode(), "sp.csv")
    assert result.detected.labelling == "period_number"
    (day,) = list(result)
    assert day.values == [float(p) for p in range(1, 51)] and not day.problems


def test_long_conflicting_duplicate_reading_and_nonexistent_spring_time():
    lines = ["MPAN,Timestamp,kWh",
             "3000000000010,2019-11-13 00:00,1", "3000000000010,2019-11-13 00:00,1",
             "3000000000010,2019-11-13 00:30,1", "3000000000010,2019-11-13 00:30,2",
             "3000000000011,2019-03-31 01:00,1"]
    items = list(parse_file("\n".join(lines).encode(), "dup.csv", FeedProfile(name="p", labelling="interval_start")))
    problems = {i.mpxn: [p.code for p in i.problems] for i in items}
    assert problems == {"3000000000010": ["conflicting_duplicate"], "3000000000011": ["period_count"]}


def test_long_late_reading_for_an_emitted_day_is_compared():
    rows = [f"3000000000012,2019-11-13 {h:02d}:{m:02d},1" for h in range(24) for m in (0, 30)]
    rows += ["3000000000013,2019-11-13 00:00,5",
             "3000000000012,2019-11-13 00:00,1",    # same value again: fine
             "3000000000012,2019-11-13 00:30,7"]    # different value: rejected
    items = list(parse_file(("MPAN,Interval Start,kWh\n" + "\n".join(rows)).encode(), "late.csv"))
    rejected = [(i.row_number, i.reason_code) for i in items if not isinstance(i, ParsedMeterDay)]
    assert rejected == [(52, "conflicting_duplicate")]
    assert sorted(i.mpxn for i in items if isinstance(i, ParsedMeterDay)) == ["3000000000012", "3000000000013"]


def test_chunked_input_gives_the_same_result_as_whole_bytes(fixture_bytes):
    data = fixture_bytes("wide_spreadsheet_artefacts.csv")
    whole = list(parse_file(data, "a.csv"))
    chunked = list(parse_file((data[i:i + 7] for i in range(0, len(data), 7)), "a.csv"))
    assert chunked == whole


def test_parsing_is_lazy_on_an_endless_stream():
    header = ("MPAN,Date," + ",".join(STARTS) + "\n").encode()
    row = ("3000000000014,2019-11-13," + ",".join(["1"] * 48) + "\n").encode()
    result = parse_file(itertools.chain([header], itertools.repeat(row)), "endless.csv")
    assert len(list(itertools.islice(result, 1000))) == 1000


def test_profile_pins_columns_and_positional_clock_change_order():
    header = ["Site", "Day"] + STARTS
    spring = ["3000000000015", "2019-03-31"] + ["2"] * 46 + ["", ""]
    profile = load_profiles({"profiles": [{"name": "shifted", "columns": {"mpxn": "Site", "date": "Day"},
                                           "period_order": "positional"}]})["shifted"]
    (day,) = list(parse_file(("\n".join([",".join(header), ",".join(spring)])).encode(), "s.csv", profile))
    assert day.values == [2.0] * 46 and not day.problems


def test_load_profiles_accepts_a_name_keyed_mapping():
    profiles = load_profiles({"wh-feed": {"unit": "Wh", "labelling": "interval_end"}})
    assert profiles["wh-feed"].unit == "Wh" and profiles["wh-feed"].labelling == "interval_end"


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty"),
    (b"hello,world\n1,2\n", "no header row"),
    (b"\xd0\xcf\x11\xe0rest", ".xls"),
    (b"PK\x03\x04garbage", "XLSX"),
    (b"{not json", "invalid JSON"),
    (b'{"count": 1}', "results"),
    (b"MPAN,Date,kWh\n3000000000016,2019-11-13,5\n", "one value per day"),
])
def test_unparseable_files_say_why(data, reason):
    with pytest.raises(UnparseableFile, match=reason):
        list(parse_file(data, "f.csv", mpxn="3000000000016" if data.startswith(b"{") else None))


def test_same_time_column_twice_conflicts_only_when_values_differ():
    header = "MPAN,Date," + ",".join(STARTS) + ",00:30"
    same = "3000000000017,2019-11-13," + ",".join(["1"] * 48) + ",1"
    other = "3000000000018,2019-11-13," + ",".join(["1"] * 48) + ",2"
    first, second = list(parse_file("\n".join([header, same, other]).encode(), "dup.csv"))
    assert not first.problems
    assert [p.code for p in second.problems] == ["conflicting_duplicate"]


def test_utf16_and_cp1252_exports():
    text = "MPAN\tDate\tSite £\t" + "\t".join(STARTS) + "\r\n3000000000019\t13/11/2019\tCafé\t" + "\t".join(["1"] * 48)
    for data in (text.encode("utf-16"), text.encode("cp1252")):
        (day,) = list(parse_file(data, "export.txt"))
        assert day.mpxn == "3000000000019" and day.values == [1.0] * 48


def test_unknown_unit_in_a_row_is_rejected_and_decimal_comma_profile():
    header = "MPAN;Date;Unit;" + ";".join(STARTS)
    good = "3000000000020;13/11/2019;kWh;" + ";".join(["1,5"] * 48)
    bad = "3000000000021;13/11/2019;litres;" + ";".join(["1,5"] * 48)
    profile = FeedProfile(name="eu", decimal_comma=True)
    day, rejected = list(parse_file("\n".join([header, good, bad]).encode(), "eu.csv", profile))
    assert day.values == [1.5] * 48
    assert (rejected.row_number, rejected.reason_code) == (3, "bad_unit")
