"""Replaying a recorded-shape meter stream through the public API at a chosen
rate: the load-test driver (``meterstream replay``)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from meterstream.client import ApiClient
from shared.synthetic.files import wide_csv_for_fleet
from shared.synthetic.meters import MeterSpec, random_fleet


@dataclass
class ReplayResult:
    meter_days: int
    accepted: int
    rejected: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.meter_days / self.seconds if self.seconds else 0.0


def fleet_directory(fleet: list[MeterSpec], seed: int) -> dict:
    """A load-test customer owning the fleet, one site per meter."""
    account = f"LT-{seed}-ACC"
    return {"customers": [{
        "id": f"LT-{seed}", "name": f"Load Test {seed}", "accounts": [{
            "id": account, "name": f"Load test account {seed}",
            "sites": [{"id": f"LT-{seed}-{m.mpxn}", "name": f"Load test site {m.mpxn}", "weather_location": m.weather_location,
                       "supply_points": [{"mpxn": m.mpxn, "fuel": m.fuel, "meter_type": "smart",
                                          "profile_class": "03" if m.fuel == "electricity" else None}]}
                      for m in fleet],
        }],
    }]}


def replay(api: ApiClient, meters: int, days: int, rate: float, seed: int = 1, end: date | None = None,
           console: Console | None = None) -> ReplayResult:
    """Register a fleet of ``meters`` synthetic meters, then send ``days`` D+1 files
    (one per day, oldest first), pacing uploads to about ``rate`` meter-days/s."""
    console = console or Console(stderr=True)
    fleet = random_fleet(meters, seed)
    before = api.get("/api/v1/ops/status")["ingest"]["supply_points"]
    result = api.put("/api/v1/admin/directory", fleet_directory(fleet, seed))
    new = result.get("supply_points_published", meters)
    api.wait_for(lambda s: s["ingest"]["supply_points"] >= before + new, "ingest to learn the fleet")

    end = end or date.today()
    start = end - timedelta(days=days)
    sent = accepted = rejected = 0
    started = time.monotonic()
    with Progress(TextColumn("replay"), BarColumn(), MofNCompleteColumn(), TextColumn("meter-days"),
                  TextColumn("{task.fields[rate]:,.0f}/s"), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("replay", total=days * len(fleet), rate=0.0)
        for i in range(days):
            day = start + timedelta(days=i)
            summary = api.upload(f"replay-{seed}-{day}.csv", "".join(wide_csv_for_fleet(fleet, day)).encode())
            sent += len(fleet)
            accepted += summary["counts"]["accepted"]
            rejected += summary["counts"]["rejected"]
            ahead = sent / rate - (time.monotonic() - started) if rate > 0 else 0
            if ahead > 0:
                time.sleep(ahead)
            progress.update(task, advance=len(fleet), rate=sent / max(time.monotonic() - started, 1e-9))
    return ReplayResult(sent, accepted, rejected, time.monotonic() - started)
