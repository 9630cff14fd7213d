"""The CRM import route of the portfolio service itself (called as the gateway
would), on the real database: its own upload limits, the ZIP packaging, and a
dry run that leaves the store and the outbox untouched."""
from __future__ import annotations

import io
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.portfolio.adapters import tables as t
from shared.outbox import pending_count
from tests.integration.portfolio_harness import callers, portfolio_service

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).parents[1] / "fixtures" / "portfolio" / "crm_sample.csv"
IMPORT = "/api/v1/admin/imports/crm"
LIMIT = 16 * 1024


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buffer.getvalue()


def test_crm_import_route(settings):
    settings = settings.model_copy(update={"max_upload_bytes": LIMIT})
    with portfolio_service(settings, date.today()) as (client, service):
        ops = callers(client, settings)["ops"]

        def post(content: bytes, name: str = "crm.csv", dry_run: bool = False):
            return ops.post(IMPORT, files={"file": (name, content)}, data={"dry_run": str(dry_run).lower()})

        def stored() -> tuple[int, int, int]:
            with service.engine.connect() as conn:
                points = conn.execute(select(func.count()).select_from(t.supply_points)).scalar_one()
            return points, pending_count(service.engine, t.outbox), service.outbox.published

        deadline = time.monotonic() + 30
        while stored()[1] and time.monotonic() < deadline:  # the demo directory's events go out first
            time.sleep(0.1)
        before = stored()
        dry = post(SAMPLE.read_bytes(), dry_run=True)
        assert dry.status_code == 200, dry.text
        assert dry.json()["supply_points_published"] == 6
        assert stored() == before  # no rows, no events

        assert post(b"x" * (LIMIT + 1)).status_code == 413
        bomb = zipped({"customers.csv": b"customer_id,name\n" + b"C1,Acme\n" * (LIMIT // 4)})
        assert len(bomb) < LIMIT and post(bomb, "crm.zip").status_code == 413

        accounts = b"account_id,customer_id,name\n3001120001,CRM-C-10231,Acme Engineering - Sheffield\n"
        customers = b"customer_id,name,micro_business\nCRM-C-10231,Acme Engineering Ltd,no\n"
        done = post(zipped({"export/accounts.csv": accounts, "export/customers.csv": customers}), "crm.zip").json()
        assert done["created"] == {"customers": 1, "accounts": 1} and done["refused"] == []
        assert done["enrolment"] == {"3001120001": "awaiting_contact_details"}
