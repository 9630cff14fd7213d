"""``meterstream aq ...``: Rolling AQ operations through the public API (gateway)."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import httpx
import typer
from rich.console import Console


def _client(url: str, email: str, password: Optional[str], console: Console) -> httpx.Client:
    password = password or os.environ.get("METERSTREAM_PASSWORD") or typer.prompt("password", hide_input=True)
    client = httpx.Client(base_url=url, timeout=120)
    token = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    if token.status_code != 200:
        console.print(f"[red]login failed: {token.text[:300]}")
        raise typer.Exit(1)
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def register(app: typer.Typer) -> None:
    aq_app = typer.Typer(help="Gas Rolling AQ: NRL files and the business calendar.", no_args_is_help=True)
    app.add_typer(aq_app, name="aq")

    @aq_app.command("nrl")
    def nrl(
        month: Annotated[str, typer.Option(help="YYYY-MM: the month the NRL rows were issued in (M-5).")],
        out: Annotated[Optional[Path], typer.Option(help="Write the CSV here instead of standard output.")] = None,
        url: Annotated[str, typer.Option(envvar="METERSTREAM_URL", help="Gateway address.")] = "http://127.0.0.1:8000",
        email: Annotated[str, typer.Option(envvar="METERSTREAM_EMAIL", help="An operations user.")] = "ops@meterstream.local",
        password: Annotated[Optional[str], typer.Option(envvar="METERSTREAM_PASSWORD", help="Its password (prompted if unset).")] = None,
    ) -> None:
        """Export the monthly NRL-style file (T04 and TRF rows) as CSV."""
        console = Console(stderr=True)
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise typer.BadParameter("expected YYYY-MM", param_hint="--month")
        r = _client(url, email, password, console).get("/api/v1/aq/nrl", params={"month": month})
        if r.status_code != 200:
            console.print(f"[red]{r.status_code}: {r.text[:300]}")
            raise typer.Exit(1)
        if out is None:
            sys.stdout.write(r.text)
        else:
            out.write_text(r.text)
            console.print(f"{max(r.text.count(chr(10)) - 1, 0)} rows written to {out}")
