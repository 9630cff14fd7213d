"""The CRM migration import through the gateway, every service a process: the
sample export is imported (and `meterstream import` reports it), a re-import
changes nothing, a dry run writes nothing, and bad uploads get clear 4xx."""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meterstream.cli import app
from shared.synthetic.demo import OPS_EMAIL, OPS_PASSWORD
from tests.e2e.conftest import RunningStack, start_stack

pytestmark = pytest.mark.e2e

SAMPLE = Path(__file__).parents[1] / "fixtures" / "portfolio" / "crm_sample.csv"
IMPORT = "/api/v1/admin/imports/crm"
UPLOAD_LIMIT = 256 * 1024
SAMPLE_ACCOUNTS = {"3001120001", "3001120002", "3002230001", "3003340001"}
SAMPLE_REFUSED = 11


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory) -> Iterator[RunningStack]:
    """The demo stack with a small upload limit, so an oversized file is cheap to send."""
    yield from start_stack(tmp_path_factory, {"MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT)})


def sample_as_zip() -> bytes:
    rows = list(csv.DictReader(io.StringIO(SAMPLE.read_text())))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for record_type in {r["record_type"] for r in rows}:
            out = io.StringIO()
            writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(r for r in rows if r["record_type"] == record_type)
            if record_type != "invoice":
                z.writestr(f"{record_type}s.csv", out.getvalue())
    return buffer.getvalue()


def post(client, content: bytes, name: str = SAMPLE.name, dry_run: bool = False):
    return client.http.post(IMPORT, files={"file": (name, content, "text/csv")}, data={"dry_run": str(dry_run).lower()})


def sample_accounts(ops) -> dict[str, dict]:
    return {a["id"]: a for a in ops.get("/api/v1/accounts") if a["id"] in SAMPLE_ACCOUNTS}


def test_import_dry_run_then_import_then_idempotent_reimport(demo_stack):
    ops = demo_stack.ops
    before = ops.get("/api/v1/ops/status")

    dry = post(ops, SAMPLE.read_bytes(), dry_run=True)
    assert dry.status_code == 200, dry.text
    dry = dry.json()
    assert dry["dry_run"] and dry["created"]["supply_points"] == 6 and len(dry["refused"]) == SAMPLE_REFUSED
    assert sample_accounts(ops) == {}

    done = post(ops, SAMPLE.read_bytes()).json()
    assert {k: done[k] for k in ("created", "updated", "refused", "enrolment")} == \
           {k: dry[k] for k in ("created", "updated", "refused", "enrolment")}
    assert done["created"] == {"customers": 3, "accounts": 4, "sites": 4, "supply_points": 6, "contacts": 3,
                               "users": 3, "user_accounts": 6}
    assert done["supply_points_published"] == 6
    refused = {(r["row"], r["record_type"]): r["reason"] for r in done["refused"]}
    assert refused[(24, "supply_point")] == "invalid MPAN 1100045128732: wrong check digit"
    assert refused[(16, "site")] == "account 3003340002 was refused (row 10)"

    accounts = sample_accounts(ops)
    assert {a: accounts[a]["enrolment_status"] for a in accounts} == done["enrolment"] == {
        "3001120001": "active", "3001120002": "active", "3003340001": "active",  # billing-portal user / broker
        "3002230001": "awaiting_contact_details",  # micro-business past its window, nobody to contact
    }
    assert "lucy.grant@greenline-brokers.example" in accounts["3003340001"]["users"]
    hh_settled = [s for s in ops.get("/api/v1/sites") if s["mpxn"] == "1100045128731"]
    assert hh_settled and hh_settled[0]["settlement"] == "hh"
    ops.wait_for(lambda s: s["ingest"]["supply_points"] >= before["ingest"]["supply_points"] + 6,
                 "ingest to learn the imported supply points")

    again = post(ops, SAMPLE.read_bytes()).json()
    assert again["created"] == {} and again["updated"] == {}
    assert again["unchanged"] == done["created"]
    assert again["supply_points_published"] == 0 and again["accounts_published"] == 0
    assert again["refused"] == done["refused"]

    # The same export as a ZIP of per-type CSVs is the same directory: nothing changes.
    as_zip = post(ops, sample_as_zip(), name="crm.zip").json()
    assert as_zip["created"] == {} and as_zip["updated"] == {} and as_zip["unchanged"] == done["created"]


def test_imported_users_have_no_password(demo_stack):
    login = demo_stack.ops.http.post("/api/v1/auth/token", data={"username": "lucy.grant@greenline-brokers.example",
                                                                 "password": "anything"})
    assert login.status_code == 401


def test_operations_only(demo_stack):
    assert post(demo_stack.customer, SAMPLE.read_bytes()).status_code == 403
    assert post(demo_stack.broker, SAMPLE.read_bytes()).status_code == 403


def test_bad_uploads(demo_stack):
    ops = demo_stack.ops
    too_big = post(ops, SAMPLE.read_bytes() * (UPLOAD_LIMIT // SAMPLE.stat().st_size + 1))
    assert too_big.status_code == 413
    garbage = post(ops, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", name="logo.png")
    assert garbage.status_code == 422 and "binary content" in garbage.json()["detail"]
    no_type = post(ops, b"customer_id,name\nC1,Acme\n")
    assert no_type.status_code == 422 and "record_type" in no_type.json()["detail"]
    # The demo's operations user cannot be changed by an import.
    ops_row = f"record_type,email,name,role\nuser,{OPS_EMAIL},Mallory,customer\n".encode()
    refused = post(ops, ops_row).json()["refused"]
    assert refused[0]["reason"].startswith(f"{OPS_EMAIL} is an operations user")


def test_cli_dry_run_reports_refused_rows(demo_stack):
    result = CliRunner().invoke(app, ["import", str(SAMPLE), "--dry-run", "--url", demo_stack.url,
                                      "--email", OPS_EMAIL, "--password", OPS_PASSWORD], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "dry run" in result.output and "refused rows" in result.output
    assert "invalid MPAN 1100045128732: wrong check digit" in result.output
