"""The vectorised and pre-serialised hot path of ingest gives exactly what the
per-day reference code gives: hashes, stored values, history and the event JSON."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone

import numpy as np
import orjson
from hypothesis import given
from hypothesis import strategies as st

import pytest

from services.ingest.domain import chunks
from services.ingest.adapters import publishing
from services.ingest.domain.model import MeterDayBlock, ParsedMeterDay
from services.ingest.domain.validation import (
    MeterHistory, day_p95s, fold_histories, folded_history, updated_history, value_stats_of_rows,
)
from services.ingest.domain.versioning import content_hash, content_hashes
from shared.contracts.events import MeterDayRead
from shared.hh import encode_rows, encode_values

NOW = datetime(2019, 11, 14, 9, 30, tzinfo=timezone.utc)
values = st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=1e6), st.just(-0.0)), min_size=48, max_size=48)


def reference_hash(vals: list[float | None], quality: str) -> str:
    """The hash as first released: stored hashes must keep matching re-sends."""
    array = np.round(np.array([np.nan if v is None else v for v in vals], dtype="<f8"), 9) + 0.0
    return hashlib.sha256(array.tobytes() + b"|" + quality.encode("ascii", "replace")).hexdigest()


def _nan_is_none(x):
    return None if x != x else x


def reference_stats(vals: list[float | None]) -> tuple:
    """(present, minimum, maximum) of one day, None for the extremes of a day with no values."""
    present = [v for v in vals if v is not None]
    return (len(present), min(present), max(present)) if present else (0, None, None)


@given(st.lists(values, min_size=1, max_size=5))
def test_batch_hashes_and_p95_match_the_per_day_code(rows):
    matrix = np.array(rows, dtype="<f8")
    qualities = ["".join("-" if v is None else "A" for v in r) for r in rows]
    assert content_hashes(matrix, qualities) == [reference_hash(r, q) for r, q in zip(rows, qualities)]
    assert [content_hash(r, q) for r, q in zip(rows, qualities)] == [reference_hash(r, q) for r, q in zip(rows, qualities)]
    assert [tuple(map(_nan_is_none, s)) for s in zip(*(a.tolist() for a in value_stats_of_rows(matrix)))] == \
        [reference_stats(r) for r in rows]
    history = MeterHistory(days=3, p95_period_kwh=2.0)
    for row, p95 in zip(rows, day_p95s(matrix).tolist()):
        assert folded_history(history, p95) == updated_history(history, row)
        assert folded_history(None, p95) == updated_history(None, row)


histories = st.one_of(st.none(), st.builds(MeterHistory, st.integers(0, 40), st.floats(0, 100)))
meters = st.sampled_from(["m1", "m2", "m3", "m4", "m5", "m6"])


@given(st.dictionaries(meters, histories), st.dictionaries(meters, histories),
       st.lists(st.tuples(meters, st.one_of(st.just(float("nan")), st.floats(0, 1e6))), max_size=8))
def test_histories_folded_on_columns_match_folding_day_by_day(stored, touched, days):
    stored = {m: h for m, h in stored.items() if h is not None}
    touched = {m: h for m, h in touched.items() if h is not None}
    expected = dict(touched)
    for mpxn, p95 in days:
        expected[mpxn] = folded_history(expected.get(mpxn, stored.get(mpxn)), p95)
    fold_histories(touched, stored, [m for m, _ in days], np.array([p for _, p in days], dtype="<f8"))
    assert touched == expected
    assert all(type(h.days) is int and type(h.p95_period_kwh) is float for h in touched.values())


def test_single_meter_days_are_stored_from_blocks_of_one_period_count():
    def kwh_day(number: int, day: date, values: list, quality: str) -> ParsedMeterDay:
        return ParsedMeterDay(number, f"200000000000{number}", day, values, quality, "kWh", values)

    days = [kwh_day(1, date(2019, 10, 27), [0.5] * 49 + [None], "A" * 49 + "-"),
            kwh_day(2, date(2019, 11, 13), [0.25] * 48, "E" * 48),
            kwh_day(3, date(2019, 11, 13), [None] * 47 + [-0.0], "-" * 47 + "A")]
    blocks = chunks.blocks_of(["a rejection or register read", days[0], *days[1:]])
    assert [b.row_numbers for b in blocks] == [[1], [2, 3]]
    assert [d for b in blocks for d in b.days()] == days
    for block in blocks:
        digests = content_hashes(block.kwh, block.qualities)
        for day, digest, blob, p95 in zip(block.days(), digests, encode_rows(block.kwh),
                                          day_p95s(block.kwh).tolist()):
            assert digest == reference_hash(day.values, day.quality)
            assert blob == encode_values(day.values)
            assert folded_history(None, p95) == updated_history(None, day.values)
    assert MeterDayBlock.of_days(days[1:]).days() == days[1:]


@pytest.mark.parametrize("flags, expected_flags", [("spike,estimated", ["spike", "estimated"]), ("", [])])
@pytest.mark.parametrize("day, stamp", [  # as PostgreSQL gives them back, and as SQLite stores them (UTC)
    (date(2019, 10, 27), NOW), ("2019-10-27", NOW.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"))])
def test_event_json_rendered_from_a_stored_version_is_a_valid_meter_day_read(flags, expected_flags, day, stamp):
    values = [0.125] * 47 + [-0.0, 1e-9, None]
    payload = publishing.read_event_json("electricity", "2000000000001", day, 2, "abc",
                                         encode_values(values), "A" * 48 + "E-", "Wh", flags, "batch-1", stamp)
    expected = MeterDayRead(event_id="2000000000001:2019-10-27:2", mpxn="2000000000001", fuel="electricity",
                            settlement_date=date(2019, 10, 27), version=2, content_hash="abc", kwh=values,
                            quality="A" * 48 + "E-", source_unit="Wh", flags=expected_flags, batch_id="batch-1",
                            received_at=NOW)
    assert MeterDayRead.model_validate_json(payload) == expected
    assert orjson.loads(payload)["kwh"] == values  # a missing period is null, the values exact
    assert set(orjson.loads(payload)) == set(MeterDayRead.model_fields)  # no field forgotten or invented


@pytest.mark.parametrize("sizes, chunk, expected", [
    ([2000] * 10, 10_000, [[2000] * 5, [2000] * 2, [2000] * 2, [2000]]),  # the last chunk in quarters, blocks whole
    ([2000] * 12, 10_000, [[2000] * 5, [2000] * 5, [2000] * 2]),  # a partial last chunk is smaller anyway
    ([1] * 5, 4, [[1] * 4, [1]]),
    ([1] * 3, 4, [[1], [1], [1]]),  # a small file is a last chunk too
    ([], 4, []),
])
def test_chunks_take_about_chunk_meter_days_and_the_last_in_quarters(sizes, chunk, expected):
    def block(n: int) -> MeterDayBlock:
        return MeterDayBlock.of_days([ParsedMeterDay(1, "2000000000001", date(2024, 5, 14), [0.5] * 48, "A" * 48)] * n)

    cut = list(chunks.chunked(iter([block(n) for n in sizes]), chunk))
    assert [[len(b) for b in c] for c in cut] == expected
