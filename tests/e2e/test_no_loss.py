"""Nothing lost, nothing doubled: SIGKILL a consuming service (portfolio) and
the producing one (ingest, with its outbox) while meter-days stream through,
restart them, and every accepted meter-day is stored exactly once."""
from __future__ import annotations

import threading
from collections import defaultdict
from datetime import timedelta

import pytest

from shared.synthetic.demo import demo_reads
from shared.synthetic.files import wide_csv
from shared.hh import periods_in_day
from tests.e2e.conftest import TODAY, start_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def killable_stack(tmp_path_factory):
    yield from start_stack(tmp_path_factory)


def monthly_files(months: int) -> list[tuple[str, bytes, int]]:
    files: dict[tuple, list] = defaultdict(list)
    for spec, day, reads in demo_reads(TODAY, months):
        special = day if periods_in_day(day) != 48 else None
        files[(day.year, day.month, special)].append((spec.mpxn, day, reads))
    return [
        (f"{key}.csv", "".join(wide_csv(rows, header_day=key[2])).encode(), len(rows))
        for key, rows in sorted(files.items(), key=lambda kv: str(kv[0]))
    ]


def test_sigkill_mid_stream_loses_and_doubles_nothing(killable_stack):
    stack, ops = killable_stack.stack, killable_stack.ops
    files = monthly_files(6)
    accepted: list[int] = []

    def upload_all() -> None:
        for name, content, _ in files:
            accepted.append(ops.upload(name, content)["counts"]["accepted"])

    uploader = threading.Thread(target=upload_all)
    uploader.start()
    ops.wait_for(lambda s: s["portfolio"]["meter_days"] > 0, "the first meter-days to be stored", timeout=60)
    stack.kill("portfolio")  # SIGKILL while reads are flowing
    stack.start_service("portfolio")
    uploader.join(timeout=300)
    assert not uploader.is_alive()

    stack.kill("ingest")  # SIGKILL the producer too; its outbox survives in the database
    stack.start_service("ingest")

    total = sum(accepted)
    assert total > 0
    status = ops.wait_for(
        lambda s: s["ingest"]["outbox_pending"] == 0 and s["portfolio"]["meter_days"] >= total,
        "every accepted meter-day to be stored after the restarts", timeout=180)
    # Exactly once: as many stored meter-days as distinct accepted ones, and
    # ingest holds one version of each (no re-accepting after the kill).
    assert status["portfolio"]["meter_days"] == total
    assert status["ingest"]["meter_day_versions"] == total

    # Values are not doubled: a site's stored daily totals equal what was sent.
    customer = killable_stack.customer
    spec, day, reads = next((s, d, r) for s, d, r in demo_reads(TODAY, 6) if not r.fully_missing)
    got = customer.get(f"/api/v1/sites/{spec.mpxn}/consumption", start=day.isoformat(),
                       end=(day + timedelta(days=1)).isoformat(), granularity="day")
    assert got["total"] == pytest.approx(reads.total_kwh)
