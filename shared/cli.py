"""What every service's command-line entrypoint shares: options naming the
gateway and an operations login, and a logged-in HTTP client of the public API."""
from __future__ import annotations

from typing import Annotated, Optional

import httpx
import typer
from rich.console import Console

GatewayUrl = Annotated[str, typer.Option("--url", envvar="METERSTREAM_URL", help="Gateway address.")]
Email = Annotated[str, typer.Option("--email", envvar="METERSTREAM_EMAIL", help="An operations user.")]
Password = Annotated[
    Optional[str], typer.Option("--password", envvar="METERSTREAM_PASSWORD", help="Its password (prompted if unset).")
]


def detail(response: httpx.Response) -> str:
    """The API's error message, whatever the body's shape."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)


def gateway_client(url: str, email: str, password: str | None, console: Console, timeout: float = 600) -> httpx.Client:
    """Log in through the gateway (OAuth2 password flow); exits with 1 on failure."""
    password = password or typer.prompt("password", hide_input=True)
    client = httpx.Client(base_url=url, timeout=timeout)
    try:
        token = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    except httpx.HTTPError as exc:
        console.print(f"[red]cannot reach {url}: {exc}")
        raise typer.Exit(1) from None
    if token.status_code != 200:
        console.print(f"[red]login failed: {detail(token)}")
        raise typer.Exit(1)
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client
