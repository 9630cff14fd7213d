"""``meterstream import FILE``: upload a CRM migration export through the public
API and show what it changed and which rows it refused."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shared.cli import Email, GatewayUrl, Password, detail, gateway_client
from rich.table import Table

KINDS = ("customers", "accounts", "sites", "supply_points", "contacts", "users", "user_accounts")


def _summary(result: dict) -> Table:
    title = "CRM import (dry run: nothing written)" if result["dry_run"] else "CRM import"
    table = Table(title=f"{title}: {result['rows']} rows")
    for col in ("records", "created", "updated", "unchanged"):
        table.add_column(col, justify="left" if col == "records" else "right")
    kinds = [k for k in KINDS if any(k in result[c] for c in ("created", "updated", "unchanged"))]
    for kind in kinds:
        table.add_row(kind, *(str(result[c].get(kind, 0)) for c in ("created", "updated", "unchanged")))
    table.add_section()
    table.add_row("refused rows", str(len(result["refused"])), "", "")
    table.add_row("supply points published", str(result["supply_points_published"]), "", "")
    return table


def _refusals(result: dict) -> Table:
    table = Table(title="refused rows", title_style="red")
    for col in ("file", "row", "record type", "reason"):
        table.add_column(col, overflow="fold")
    for r in result["refused"]:
        table.add_row(r["file"], str(r["row"]), r["record_type"], r["reason"])
    return table


def _enrolment(result: dict) -> Table:
    table = Table(title="enrolment of the imported accounts")
    table.add_column("account")
    table.add_column("status")
    for account, status in sorted(result["enrolment"].items()):
        table.add_row(account, status)
    return table


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_crm(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                             help="A CRM export: one CSV with a record_type column, or a ZIP of per-type CSVs.")],
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report without writing anything.")] = False,
        url: GatewayUrl = "http://127.0.0.1:8000",
        email: Email = "ops@meterstream.local",
        password: Password = None,
    ) -> None:
        """Import customers, accounts, sites, supply points, contacts, users and brokers from a CRM export.

        Idempotent: importing the same export again changes nothing. Exits with 1 when any row was refused.
        The columns are described in services/portfolio/domain/crm.py.
        """
        console = Console()
        client = gateway_client(url, email, password, console)

        with console.status(f"{'checking' if dry_run else 'importing'} {file.name}..."), file.open("rb") as f:
            r = client.post("/api/v1/admin/imports/crm", files={"file": (file.name, f)},
                            data={"dry_run": "true" if dry_run else "false"})
        if r.status_code >= 400:
            console.print(f"[red]{file.name}: {r.status_code}: {detail(r)}")
            raise typer.Exit(1)
        result = r.json()
        console.print(_summary(result))
        if result["enrolment"]:
            console.print(_enrolment(result))
        if result["refused"]:
            console.print(_refusals(result))
            raise typer.Exit(1)
