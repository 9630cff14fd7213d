"""Property tests: any byte string yields a completed ParseResult or UnparseableFile, nothing else."""
from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.domain.model import ParsedMeterDay, ParsedRegisterRead, RowRejection, UnparseableFile
from services.ingest.domain.parsing import parse_file
from shared.hh import periods_in_day

FIXTURES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "ingest").iterdir())
SEEDS = [p.read_bytes() for p in FIXTURES if p.suffix != ".xlsx"]
ITEM_TYPES = (ParsedMeterDay, ParsedRegisterRead, RowRejection)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_completely(data: bytes, name: str = "f.csv", chunk: int | None = None) -> None:
    source = data if chunk is None else (data[i:i + chunk] for i in range(0, len(data), chunk))
    try:
        result = parse_file(source, name, mpxn="2000000000001")
    except UnparseableFile as exc:
        assert exc.reason
        return
    assert result.detected.describe()
    for item in result:
        assert isinstance(item, ITEM_TYPES)
        if isinstance(item, ParsedMeterDay):
            assert len(item.values) == len(item.quality) == periods_in_day(item.settlement_date)


@FAST
@given(st.binary(max_size=2000), st.sampled_from(["f.csv", "f.xlsx", "f.json", "f.txt"]))
def test_any_bytes(data, name):
    parse_completely(data, name)


@st.composite
def mutated_fixture(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        junk = draw(st.binary(min_size=1, max_size=8) | st.sampled_from(
            [b",", b";", b'"', b"\r", b"\n", b"\x00", b"-1", b"abc", b"24:00", b"31/02/2019", b"nan", b"1e999"]))
        if action == "insert":
            data[position:position] = junk
        elif action == "delete":
            del data[position:position + len(junk)]
        elif action == "replace":
            data[position:position + len(junk)] = junk
        else:
            del data[position:]
    return bytes(data)


@FAST
@given(mutated_fixture(), st.sampled_from([None, 1, 3, 64]))
def test_mutated_real_files(data, chunk):
    parse_completely(data, chunk=chunk)


@FAST
@given(st.text(alphabet=st.sampled_from(list("MPAN,Date;:0123456789/-. \n\r\"Tkwh\t")), max_size=600))
def test_csv_like_text(text):
    parse_completely(("MPAN,Date," + ",".join(f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30))
                      + "\n" + text).encode())
