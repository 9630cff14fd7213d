"""Dates, numbers and units as they appear in files."""
from __future__ import annotations

from datetime import date

import pytest

from services.ingest.domain.detect import classify
from services.ingest.domain.timestamps import parse_stamp
from services.ingest.domain.units import kwh_factor, parse_number, unit_from_text


@pytest.mark.parametrize(("text", "day", "minute", "offset", "style"), [
    ("2019-11-13", date(2019, 11, 13), None, None, "YYYY-MM-DD"),
    ("13/11/2019", date(2019, 11, 13), None, None, "DD/MM/YYYY"),
    ("Nov 13 2019 12:00AM", date(2019, 11, 13), 0, None, "Mon DD YYYY hh:mmAM"),
    ("Nov  3 2019 12:30PM", date(2019, 11, 3), 750, None, "Mon DD YYYY hh:mmAM"),
    ("04 Nov 2019 00:30:00", date(2019, 11, 4), 30, None, "DD Mon YYYY hh:mm:ss"),
    ("2019-11-13T00:30:00+01:00", date(2019, 11, 13), 30, 60, "ISO 8601 with offset"),
    ("2019-11-13T00:30:00Z", date(2019, 11, 13), 30, 0, "ISO 8601 with offset"),
    ("2019-11-13 24:00", date(2019, 11, 13), 1440, None, "YYYY-MM-DD hh:mm"),
    ("20191113", date(2019, 11, 13), None, None, "YYYYMMDD"),
])
def test_date_formats(text, day, minute, offset, style):
    stamp = parse_stamp(text)
    assert (stamp.day, stamp.minute, stamp.offset_minutes, stamp.style) == (day, minute, offset, style)


@pytest.mark.parametrize("text", ["2019-02-31", "31/02/2019", "9999-12-31", "2019-11-13 24:30", "13/13/2019",
                                  "Foo 13 2019", "2019-11-13T00:00+25:00", "", "x"])
def test_invalid_dates(text):
    assert parse_stamp(text) is None


def test_month_first_when_the_profile_says_so():
    assert parse_stamp("11/13/2019", day_first=False).day == date(2019, 11, 13)


@pytest.mark.parametrize(("text", "value"), [
    ("1.5", 1.5), (' "2.25" ', 2.25), ("1,234.5", 1234.5), ("", None), ("-", None), ("NaN", None),
    ("n/a", None), ("-0.5", -0.5), ("1e3", 1000.0),
])
def test_numbers(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["abc", "1.2.3", "inf", "1e999", "1,2"])
def test_non_numbers(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_decimal_comma():
    assert parse_number("1.234,5", decimal_comma=True) == 1234.5


def test_units():
    assert kwh_factor("kWh") == 1.0 and kwh_factor("Wh") == 0.001
    assert kwh_factor("m3", 39.5) == pytest.approx(1.02264 * 39.5 / 3.6)
    assert [unit_from_text(t) for t in ["Consumption (kWh)", "Value Wh", "Volume m³", "Units"]] == \
        ["kWh", "Wh", "m3", None]


@pytest.mark.parametrize(("header", "labelling"), [
    (["MPAN", "Date"] + [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)], "interval_start"),
    (["MPAN", "Date"] + [f"Period ending {h:02d}:{m:02d}" for h in range(24) for m in (0, 30)], "interval_end"),
    (["MPAN", "Date"] + [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)][1:] + ["24:00"], "interval_end"),
    (["MPAN", "Date"] + [f"{h:02d}{m:02d} - {h:02d}:{m + 29:02d}" for h in range(24) for m in (0, 30)],
     "interval_start"),
])
def test_labelling_from_header(header, labelling):
    assert classify(header).labelling == labelling
