"""One fixture file per real-world format quirk: exact counts, values and detection."""
from __future__ import annotations

from datetime import date

import pytest

from services.ingest.domain.model import ParsedMeterDay, ParsedRegisterRead, RowRejection, UnparseableFile
from services.ingest.domain.parsing import parse_file
from services.ingest.domain.profiles import FeedProfile
from services.ingest.domain.units import GAS_VOLUME_CORRECTION

NOV13 = date(2019, 11, 13)


def days(items: list) -> list[ParsedMeterDay]:
    return [i for i in items if isinstance(i, ParsedMeterDay)]


def test_wide_start_labels_with_extra_columns_and_total(parse_fixture):
    result, items = parse_fixture("wide_start_labels_extra_columns.csv")
    d = result.detected
    assert (d.layout, d.labelling, d.date_format, d.unit, d.has_flags) == \
        ("wide", "interval_start", "YYYY-MM-DD", "kWh", False)
    assert d.columns["mpxn"] == "MPAN Core" and d.columns["total"] == "Total"
    assert d.columns["ignored"] == "Location, Meter Serial, Postcode"
    assert [m.mpxn for m in days(items)] == ["2000000000001", "2000000000002", "2000000000003"]
    first = days(items)[0]
    assert first.settlement_date == NOV13 and len(first.values) == 48
    assert first.values[:3] == [0.0, 0.25, 0.5] and first.quality == "A" * 48 and not first.problems
    assert result.rows_read == 3
    assert "one row per meter-day" in d.describe() and "interval start" in d.describe()


def test_wide_end_labels_with_interleaved_flags(parse_fixture):
    result, items = parse_fixture("wide_end_labels_flags.csv")
    assert result.detected.labelling == "interval_end"
    assert result.detected.has_flags and result.detected.date_format == "DD/MM/YYYY"
    first, second = days(items)
    assert first.values[0] == 0.0  # the 00:30 column is the first period (00:00-00:30)
    assert second.quality == "EE" + "A" * 46


def test_wide_period_numbered_with_per_row_units(parse_fixture):
    result, items = parse_fixture("wide_period_numbered_units.csv")
    assert result.detected.labelling == "period_number"
    assert result.detected.date_format == "Mon DD YYYY hh:mmAM"
    gas, power = days(items)
    assert gas.source_unit == "m3" and gas.source_values == [1.0] * 48
    assert gas.values[0] == pytest.approx(1.0 * GAS_VOLUME_CORRECTION * 39.5 / 3.6)
    assert power.source_unit == "kWh" and power.values == [2.0] * 48


def test_calorific_value_comes_from_the_profile(fixture_bytes):
    profile = FeedProfile(name="gas", calorific_value=40.0)
    gas = days(list(parse_file(fixture_bytes("wide_period_numbered_units.csv"), "g.csv", profile)))[0]
    assert gas.values[0] == pytest.approx(GAS_VOLUME_CORRECTION * 40.0 / 3.6)


def test_spreadsheet_artefacts_bom_sep_line_quotes_mixed_endings_blank_lines_nul(parse_fixture):
    result, items = parse_fixture("wide_spreadsheet_artefacts.csv")
    d = result.detected
    assert d.delimiter == ";" and d.header_row == 2
    assert [(m.row_number, m.mpxn) for m in days(items)] == \
        [(4, "2000000000021"), (5, "2000000000022"), (7, "2000000000023")]
    assert all(not m.problems and len(m.values) == 48 for m in days(items))
    assert days(items)[1].values[0] == 0.25  # "0.2\x005": the NUL is dropped
    assert days(items)[2].values[0] == 1234.5  # quoted "1,234.50"


def test_clock_change_with_separate_extra_hour_columns(parse_fixture):
    _, items = parse_fixture("wide_clock_change_extra_columns.csv")
    autumn, spring, normal, extra_on_normal, spring_with_0100 = days(items)
    assert len(autumn.values) == 50 and None not in autumn.values and not autumn.problems
    assert len(spring.values) == 46 and None not in spring.values and not spring.problems
    assert len(normal.values) == 48 and not normal.problems
    assert [p.code for p in extra_on_normal.problems] == ["period_count"]
    assert "01:00a" in extra_on_normal.problems[0].detail
    assert [p.code for p in spring_with_0100.problems] == ["period_count"]


def test_clock_change_period_numbered_is_positional(parse_fixture):
    _, items = parse_fixture("wide_clock_change_period_numbered.csv")
    autumn, spring, normal = days(items)
    assert autumn.values == [float(n) for n in range(1, 51)]
    assert spring.values == [float(n) for n in range(1, 47)]
    assert normal.values == [float(n) for n in range(1, 49)]
    assert not (autumn.problems or spring.problems or normal.problems)


def test_clock_change_columns_49_50_beside_time_labels_are_the_repeated_hour(parse_fixture):
    _, items = parse_fixture("wide_clock_change_columns_49_50.csv")
    autumn, normal = days(items)
    assert autumn.values[:6] == [1.0, 1.0, 1.0, 1.0, 9.0, 9.0]  # 01:00 and 01:30 GMT after the BST ones
    assert len(normal.values) == 48 and not normal.problems


def test_long_end_labels_with_read_type(parse_fixture):
    result, items = parse_fixture("long_end_labels.csv")
    d = result.detected
    assert (d.layout, d.labelling, d.date_format) == ("long", "interval_end", "DD Mon YYYY hh:mm:ss")
    first, second = days(items)
    assert first.settlement_date == date(2019, 11, 4)
    assert first.values == [i / 10 for i in range(48)]
    assert second.quality == "AAAAAE" + "A" * 42
    assert result.rows_read == 96


def test_long_iso_offset_shuffled_in_wh(parse_fixture):
    result, items = parse_fixture("long_iso_offset_shuffled_wh.csv")
    assert result.detected.unit == "Wh" and result.detected.labelling == "interval_start"
    assert result.detected.date_format == "ISO 8601 with offset"
    out = sorted(days(items), key=lambda m: m.mpxn)
    assert len(out) == 2
    for meter_day in out:
        assert meter_day.settlement_date == date(2019, 7, 1)
        assert meter_day.source_values == [500.0 + i for i in range(48)]
        assert meter_day.values == pytest.approx([(500 + i) / 1000 for i in range(48)])
        assert meter_day.source_unit == "Wh"


def test_long_naive_local_times_through_the_autumn_change(parse_fixture):
    _, items = parse_fixture("long_autumn_naive_local.csv")
    (day,) = days(items)
    assert day.settlement_date == date(2019, 10, 27)
    assert day.values == [float(i) for i in range(50)] and not day.problems


def test_octopus_json_needs_the_mpxn_and_groups_results(parse_fixture):
    with pytest.raises(UnparseableFile, match="MPxN"):
        parse_fixture("octopus_consumption.json")
    result, items = parse_fixture("octopus_consumption.json", mpxn="2000000000200")
    assert result.detected.layout == "octopus_json" and result.rows_read == 48
    (day,) = days(items)
    assert day.mpxn == "2000000000200" and day.settlement_date == NOV13
    assert day.values == pytest.approx([0.1 * i for i in range(48)])


def test_register_reads(parse_fixture):
    result, items = parse_fixture("register_reads.csv")
    assert result.detected.layout == "register" and result.detected.unit == "m3"
    reads = [i for i in items if isinstance(i, ParsedRegisterRead)]
    assert [(r.mpxn, r.read_date, r.register_value, r.read_type) for r in reads] == [
        ("1234567", date(2019, 10, 1), 10234.5, "actual"),
        ("1234567", date(2019, 11, 1), 10530.0, "estimated"),
        ("7654321", date(2019, 11, 2), 88.0, "customer"),
    ]
    (bad,) = [i for i in items if isinstance(i, RowRejection)]
    assert (bad.row_number, bad.reason_code) == (5, "non_numeric")


def test_xlsx_with_title_rows_and_time_typed_headers(parse_fixture):
    result, items = parse_fixture("wide_title_rows.xlsx")
    assert result.detected.source == "xlsx" and result.detected.header_row == 3
    first, second = days(items)
    assert first.mpxn == "2000000000111" and first.values == [0.25] * 48
    assert second.values[-1] is None and second.quality == "A" * 47 + "-"


def test_headerless_file_with_a_feed_profile(parse_fixture):
    profile = FeedProfile.model_validate({
        "name": "acme-dc", "delimiter": "|", "header": ["MPAN", "Date"] + [f"HH{n}" for n in range(1, 49)]})
    result, items = parse_fixture("headerless_profile.csv", profile=profile)
    assert result.detected.profile == "acme-dc"
    assert [(m.row_number, m.mpxn, m.settlement_date) for m in days(items)] == [
        (1, "2000000000101", NOV13), (2, "2000000000102", NOV13)]


def test_row_level_problems_are_exact(parse_fixture):
    result, items = parse_fixture("wide_rejections.csv")
    assert result.rows_read == 11
    rejected = [(i.row_number, i.reason_code) for i in items if isinstance(i, RowRejection)]
    assert rejected == [(6, "bad_date"), (7, "missing_mpxn")]
    problems = {m.row_number: [p.code for p in m.problems] for m in days(items) if m.problems}
    assert problems == {4: ["non_numeric"], 9: ["conflicting_duplicate"], 11: ["period_count"]}
    gap = next(m for m in days(items) if m.row_number == 5)
    assert gap.values[20:22] == [None, None] and gap.quality[20:22] == "--"  # never filled
