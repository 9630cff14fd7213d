"""Rolling AQ end to end, every service a process: gas register reads uploaded to ingest reach
aq, ops advance the business clock, the calculation and its NRL row appear in the API, the
NRL export and the CLI."""
from __future__ import annotations

from datetime import timedelta

import pytest
import typer
from typer.testing import CliRunner

from services.aq.domain.calendar import DEFAULT_CALENDAR
from services.aq.domain.dates import add_months, first_of_next_month
from services.aq.entrypoints.cli import register
from shared.synthetic.demo import OPS_EMAIL, OPS_PASSWORD, demo_dataset
from tests.e2e.conftest import TODAY

pytestmark = pytest.mark.e2e


def test_register_reads_to_aq_history_and_nrl(demo_stack):
    ops = demo_stack.ops
    gas = [p.spec.mpxn for _, p in demo_dataset(TODAY).supply_points() if p.spec.fuel == "gas"]
    ops.wait_for(lambda s: s["aq"]["meter_points"] >= len(gas), "aq to learn the demo gas points")
    mprn = gas[0]
    # portfolio does not know registration dates: operations load the AQ data aq owns.
    point = ops.put(f"/api/v1/meter-points/{mprn}", {"registered_on": "2019-04-01", "aq_kwh": 120_000})
    assert (point["source"], point["euc"], point["meter_class"]) == ("ops", "02B", 3)

    first = add_months(TODAY.replace(day=1), -13)
    rows = [f"{mprn},{add_months(first, i):%d/%m/%Y},{10_000 + 900 * i},A" for i in range(14)]
    batch = ops.upload("gas-register.csv", ("MPRN,Read Date,Meter Reading,Read Type\n" + "\n".join(rows) + "\n").encode())
    assert batch["counts"]["register_reads"] == 14, batch
    ops.wait_for(lambda s: s["aq"]["register_reads"] >= 14, "the register reads to reach aq", timeout=60)

    clock = ops.get("/api/v1/aq/clock")
    # The first close-out after the reads arrive calculates from them.
    day = DEFAULT_CALENDAR.close_out_day
    close_out = (TODAY if TODAY.day < day else first_of_next_month(TODAY)).replace(day=day)
    notice = first_of_next_month(close_out) - timedelta(days=5)
    r = ops.http.post("/api/v1/aq/clock/advance", params={"to": notice.isoformat()})
    assert r.status_code == 200 and clock["business_date"] <= notice.isoformat()
    ops.wait_for(lambda s: s["aq"]["points_behind"] == 0 and s["aq"]["business_date"] == notice.isoformat(),
                 "the calendar to catch up", timeout=60)

    history = ops.get(f"/api/v1/meter-points/{mprn}/aq")["history"]
    calculated = [h for h in history if h["kind"] == "calculated"]
    assert calculated and calculated[-1]["business_date"] == close_out.isoformat()
    assert calculated[-1]["effective_from"] == first_of_next_month(close_out).isoformat()
    assert calculated[-1]["aq_kwh"] > 0 and calculated[-1]["read_end"] == add_months(first, 13).isoformat()

    month = f"{notice:%Y-%m}"
    csv_text = ops.http.get("/api/v1/aq/nrl", params={"month": month}).text
    assert any(line.startswith("T04,") and mprn in line for line in csv_text.splitlines())

    cli = typer.Typer()
    register(cli)
    result = CliRunner().invoke(cli, ["aq", "nrl", "--month", month, "--url", demo_stack.url, "--email", OPS_EMAIL,
                                      "--password", OPS_PASSWORD])
    assert result.exit_code == 0, result.output
    assert mprn in result.stdout and result.stdout.startswith("record_type,")
