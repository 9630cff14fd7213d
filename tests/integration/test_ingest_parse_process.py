"""The parse process (services/ingest/parse_process.py): a real spawned process per
test. What matters is that no file can hang ingest or leave a process behind, and
that a parse process is reused only when it is between files."""
from __future__ import annotations

import os
import signal
from datetime import date, timedelta

import pytest

from services.ingest import parse_process
from services.ingest.domain.model import UnparseableFile
from shared.synthetic.files import wide_csv
from shared.synthetic.meters import MeterSpec, meter_day

pytestmark = pytest.mark.integration

METERS = [MeterSpec(f"12000233059{i:02d}", "electricity", "office", 100_000) for i in range(10)]
DAY = date(2024, 5, 14)


def d1_file(days: int = 3) -> bytes:
    dates = [DAY + timedelta(days=d) for d in range(days)]
    rows = ((m.mpxn, day, meter_day(m, day)) for day in dates for m in METERS)
    return "".join(wide_csv(rows, rows_per_chunk=5)).encode()


def pieces(data: bytes, size: int = 512):
    return (data[i:i + size] for i in range(0, len(data), size))


@pytest.fixture(autouse=True)
def one_idle_parse_process():
    parse_process.start(1)
    yield
    workers = list(parse_process._idle)
    parse_process.stop_all()
    assert not any(w.process.is_alive() for w in workers)


def meter_days(chunks) -> int:
    return sum(len(block) for chunk in chunks for block in chunk.blocks)


def idle_pids() -> set[int]:
    return {w.process.pid for w in parse_process._idle}


def test_a_file_comes_in_chunks_and_the_parse_process_is_reused():
    before = idle_pids()
    with parse_process.parsed(pieces(d1_file()), "d1.csv", None, None, chunk_size=8) as parsed:
        chunks = list(parsed.chunks())
    assert parsed.rows_read == 30 and parsed.finished
    assert meter_days(chunks) == 30 and len(chunks) > 3
    assert [len(d) for c in chunks for d in c.digests] == [len(b) for c in chunks for b in c.blocks]
    assert idle_pids() == before  # the same process, ready for the next file
    with parse_process.parsed(pieces(d1_file(1)), "again.csv", None, None, chunk_size=8) as again:
        assert meter_days(again.chunks()) == 10  # it starts at the second file's own bytes


def test_an_unparseable_file_is_refused_and_the_parse_process_kept():
    before = idle_pids()
    with pytest.raises(UnparseableFile):
        with parse_process.parsed(pieces(b"\x00\x01 not a meter file\n" * 2000), "junk.csv", None, None, 8) as parsed:
            list(parsed.chunks())
    assert idle_pids() == before
    with parse_process.parsed([d1_file(1)], "good.csv", None, None, 8) as parsed:
        assert meter_days(parsed.chunks()) == 10


def test_an_upload_that_fails_mid_file_raises_its_error_and_the_process_is_stopped():
    class TooLarge(Exception):
        pass

    def upload():
        data = d1_file()
        yield data[:len(data) // 2]
        raise TooLarge("over the upload limit")

    worker = parse_process._idle[0]
    with pytest.raises(TooLarge):
        with parse_process.parsed(upload(), "big.csv", None, None, 8) as parsed:
            list(parsed.chunks())
    assert not worker.process.is_alive() and not parse_process._idle


def test_leaving_a_file_part_way_stops_its_parse_process():
    worker = parse_process._idle[0]
    with parse_process.parsed(pieces(d1_file()), "d1.csv", None, None, 8) as parsed:
        next(parsed.chunks())
    assert not worker.process.is_alive() and not parse_process._idle
    with parse_process.parsed(pieces(d1_file(1)), "next.csv", None, None, 8) as parsed:  # a new process takes it
        assert meter_days(parsed.chunks()) == 10


def test_a_killed_parse_process_is_an_error_not_a_hang():
    worker = parse_process._idle[0]
    with pytest.raises(RuntimeError, match="parse process exited"):
        with parse_process.parsed(pieces(d1_file()), "d1.csv", None, None, 8) as parsed:
            for i, _ in enumerate(parsed.chunks()):
                if i == 0:
                    os.kill(worker.process.pid, signal.SIGKILL)
    assert not worker.process.is_alive()
