"""Wide D+1 CSV rendering: header labels, clock-change rows, empty cells for gaps, streaming."""
from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from shared.synthetic.files import header, period_labels, wide_csv, wide_csv_for_fleet
from shared.synthetic.meters import MeterSpec, SyntheticDay, meter_day, meter_days, random_fleet

FLEET = random_fleet(12, seed=3)


def _parse(chunks) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(chunks))))


@pytest.mark.parametrize(
    ("day", "count", "first_four", "last"),
    [
        (date(2024, 6, 1), 48, ["00:00", "00:30", "01:00", "01:30"], "23:30"),
        (date(2024, 3, 31), 46, ["00:00", "00:30", "02:00", "02:30"], "23:30"),
        (date(2024, 10, 27), 50, ["00:00", "00:30", "01:00 BST", "01:30 BST"], "23:30"),
    ],
)
def test_period_labels_follow_the_local_clock(day: date, count: int, first_four: list[str], last: str) -> None:
    labels = period_labels(day)
    assert len(labels) == count == len(set(labels))
    assert labels[:4] == first_four
    assert labels[-1] == last


def test_repeated_autumn_hour_is_labelled_with_its_zone() -> None:
    assert period_labels(date(2024, 10, 27))[2:6] == ["01:00 BST", "01:30 BST", "01:00 GMT", "01:30 GMT"]


def test_default_header_is_mpan_date_and_48_half_hours() -> None:
    columns = header().rstrip("\n").split(",")
    assert columns[:3] == ["MPAN", "Date", "00:00"]
    assert columns[-1] == "23:30"
    assert len(columns) == 50


@pytest.mark.parametrize(("day", "periods"), [(date(2024, 3, 31), 46), (date(2024, 10, 27), 50), (date(2024, 6, 3), 48)])
def test_fleet_file_round_trips_values_and_shape(day: date, periods: int) -> None:
    rows = _parse(wide_csv_for_fleet(FLEET, day))
    assert len(rows[0]) == 2 + periods
    expected = {s.mpxn: meter_day(s, day) for s in FLEET}
    for cells in rows[1:]:
        assert len(cells) == 2 + periods
        assert cells[1] == day.isoformat()
        parsed = [None if c == "" else float(c) for c in cells[2:]]
        assert parsed == expected[cells[0]].values


def test_flag_columns_carry_quality_and_stay_empty_for_gaps() -> None:
    spec = MeterSpec("1200023305967", "electricity", "office", 90_000, gap_rate=0.2, estimate_rate=0.2)
    day = next(d for d, r in meter_days(spec, date(2024, 1, 1), date(2024, 3, 1))
               if {"A", "E", "-"} <= set(r.quality))
    rows = _parse(wide_csv_for_fleet([spec], day, flags=True))
    assert rows[0][2:4] == ["00:00", "00:00 Flag"]
    cells = rows[1][2:]
    values, flags = cells[0::2], cells[1::2]
    quality = "".join(f or "-" for f in flags)
    assert quality == meter_day(spec, day).quality
    assert all((v == "") == (f == "") for v, f in zip(values, flags))


def test_wholly_missing_meter_days_have_no_row() -> None:
    spec = MeterSpec("7512009834", "gas", "heating", 100_000, gap_rate=1.0)
    day = next(d for d, r in meter_days(spec, date(2024, 1, 1), date(2025, 1, 1)) if r.fully_missing)
    rows = _parse(wide_csv_for_fleet([spec, FLEET[0]], day))
    assert [r[0] for r in rows[1:]] == [FLEET[0].mpxn]


def test_multi_day_files_have_ragged_rows_under_a_48_period_header() -> None:
    spec = FLEET[0]
    days = [date(2024, 10, 26), date(2024, 10, 27), date(2024, 10, 28)]
    rows = _parse(wide_csv((spec.mpxn, d, meter_day(spec, d)) for d in days))
    assert [len(r) for r in rows] == [50, 50, 52, 50]


def test_dates_can_be_written_uk_style() -> None:
    rows = _parse(wide_csv([("1200023305967", date(2024, 6, 3), SyntheticDay([1.0] * 48, "A" * 48))],
                           date_format="%d/%m/%Y"))
    assert rows[1][:3] == ["1200023305967", "03/06/2024", "1.000"]


def test_output_streams_in_chunks_without_reading_all_rows() -> None:
    def endless() -> Iterator[tuple[str, date, SyntheticDay]]:
        for offset in itertools.count():
            day = date(2024, 1, 1) + timedelta(days=offset % 300)
            yield FLEET[0].mpxn, day, meter_day(FLEET[0], day)

    chunks = list(itertools.islice(wide_csv(endless(), rows_per_chunk=10), 3))
    assert chunks[0] == header()
    assert [c.count("\n") for c in chunks[1:]] == [10, 10]


def test_last_partial_chunk_is_emitted() -> None:
    rows = [(s.mpxn, date(2024, 6, 3), meter_day(s, date(2024, 6, 3))) for s in FLEET[:5]]
    chunks = list(wide_csv(rows, rows_per_chunk=2))
    assert [c.count("\n") for c in chunks] == [1, 2, 2, 1]
