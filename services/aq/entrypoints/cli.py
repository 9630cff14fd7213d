"""``meterstream aq ...``: Rolling AQ operations through the public API (gateway)."""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from shared.cli import Email, GatewayUrl, Password, detail, gateway_client


def register(app: typer.Typer) -> None:
    aq_app = typer.Typer(help="Gas Rolling AQ: NRL files and the business calendar.", no_args_is_help=True)
    app.add_typer(aq_app, name="aq")

    @aq_app.command("nrl")
    def nrl(
        month: Annotated[str, typer.Option(help="YYYY-MM: the month the NRL rows were issued in (M-5).")],
        out: Annotated[Optional[Path], typer.Option(help="Write the CSV here instead of standard output.")] = None,
        url: GatewayUrl = "http://127.0.0.1:8000",
        email: Email = "ops@meterstream.local",
        password: Password = None,
    ) -> None:
        """Export the monthly NRL-style file (T04 and TRF rows) as CSV."""
        console = Console(stderr=True)
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise typer.BadParameter("expected YYYY-MM", param_hint="--month")
        r = gateway_client(url, email, password, console, timeout=120).get("/api/v1/aq/nrl", params={"month": month})
        if r.status_code != 200:
            console.print(f"[red]{r.status_code}: {detail(r)}")
            raise typer.Exit(1)
        if out is None:
            sys.stdout.write(r.text)
        else:
            out.write_text(r.text)
            console.print(f"{max(r.text.count(chr(10)) - 1, 0)} rows written to {out}")
