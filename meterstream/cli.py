"""The ``meterstream`` command."""
from __future__ import annotations

import importlib
import os
import signal
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from shared.config import SERVICES, Settings

app = typer.Typer(
    help="meterstream: half-hourly meter data platform. `meterstream up --demo` runs everything locally.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema management (Alembic, one history per service).", no_args_is_help=True)
contracts_app = typer.Typer(help="Event contracts: JSON Schemas and the AsyncAPI document.", no_args_is_help=True)
topics_app = typer.Typer(help="Kafka topics of the event contracts.", no_args_is_help=True)
users_app = typer.Typer(help="User administration (bootstrap an operations user).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(contracts_app, name="contracts")
app.add_typer(topics_app, name="topics")
app.add_typer(users_app, name="users")
console = Console(stderr=True)

# Each service contributes its own commands.
for _service in ("ingest", "aq", "portfolio"):
    importlib.import_module(f"services.{_service}.entrypoints.cli").register(app)

RunDir = Annotated[Optional[Path], typer.Option("--run-dir", help="Where logs, SQLite files and secrets go [env: RUN_DIR, default ./run].")]


def _settings(run_dir: Path | None = None, **updates) -> Settings:
    settings = Settings()
    if run_dir is not None:
        updates["run_dir"] = run_dir
    return settings.model_copy(update=updates) if updates else settings


@app.command()
def up(
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="Seed the demo customer and replay 13 months of HH data.")] = False,
    port: Annotated[Optional[int], typer.Option(help="Gateway port [env: GATEWAY_PORT, default 8000].")] = None,
    months: Annotated[int, typer.Option(help="Months of demo history to replay.", min=1, max=36)] = 13,
    run_dir: RunDir = None,
) -> None:
    """Run the whole platform: broker (embedded unless KAFKA_BOOTSTRAP_SERVERS is set), migrations and every service.

    Ctrl-C stops everything. Logs are in RUN_DIR/logs.
    """
    from meterstream.stack import Stack, StackError

    settings = _settings(run_dir, **({"gateway_port": port} if port else {}))
    stack = Stack(settings, embedded_broker="KAFKA_BOOTSTRAP_SERVERS" not in os.environ)
    # Ctrl-C and SIGTERM both stop everything, also when started in the background
    # (where a shell leaves SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with console.status("starting broker, migrating databases, creating topics..."):
            stack.start()
        console.print(f"broker at {stack.settings.kafka_bootstrap_servers}; services starting (logs in {stack.logs})")
        with console.status("waiting for every service to be ready..."):
            stack.wait_ready()
        console.print(f"[green]ready[/green]: portal and API at [bold]{stack.gateway_url}[/bold] (API docs at {stack.gateway_url}/docs)")
        if demo:
            from meterstream.demo import run_demo

            run_demo(stack.settings, stack.gateway_url, months=months, console=console)
        console.print("Ctrl-C to stop.")
        while True:
            for name, proc in list(stack.procs.items()):
                if proc.poll() is not None:
                    console.print(f"[yellow]{name} exited with {proc.returncode}; restarting (see {stack.logs / (name + '.log')})")
                    stack.start_service(name)
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    except StackError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with console.status("stopping..."):
            stack.stop()
        console.print("stopped.")


@app.command()
def service(name: Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}.")]) -> None:
    """Run one service in the foreground (what `up` and the containers run)."""
    if name not in SERVICES:
        console.print(f"[red]unknown service {name!r}; choose one of {', '.join(SERVICES)}")
        raise typer.Exit(2)
    settings = Settings()
    if name == "gateway":
        from services.gateway.entrypoints.main import serve as serve_gateway

        serve_gateway(settings)
        return
    from shared.runtime import serve

    serve(importlib.import_module(f"services.{name}.entrypoints.main").build(settings))


@app.command()
def replay(
    meters: Annotated[int, typer.Option(help="Synthetic meters in the replayed fleet.", min=1)] = 100,
    days: Annotated[int, typer.Option(help="D+1 files to send, one per day, ending yesterday.", min=1)] = 30,
    rate: Annotated[float, typer.Option(help="Target meter-days per second (0 = as fast as possible).", min=0)] = 0,
    seed: Annotated[int, typer.Option(help="Fleet seed: the same seed replays the same meters.")] = 1,
    url: Annotated[str, typer.Option(envvar="METERSTREAM_URL", help="Gateway address.")] = "http://127.0.0.1:8000",
    email: Annotated[str, typer.Option(envvar="METERSTREAM_EMAIL", help="An operations user.")] = "ops@meterstream.local",
    password: Annotated[str, typer.Option(envvar="METERSTREAM_PASSWORD", help="Its password.")] = "ops-password",
) -> None:
    """Replay a synthetic meter stream (real D+1 file shapes) through the API at a chosen rate.

    Registers a load-test customer owning the fleet first, then uploads one file per day with a progress bar.
    """
    from meterstream.client import ApiClient, ApiError
    from meterstream.replay import replay as run_replay

    try:
        result = run_replay(ApiClient(url).login(email, password), meters, days, rate, seed, console=console)
    except ApiError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None
    console.print(f"sent {result.meter_days:,} meter-days in {result.seconds:.1f} s ({result.rate:,.0f}/s): "
                  f"{result.accepted:,} accepted, {result.rejected:,} rejected")


@app.command()
def bench(
    scale: Annotated[float, typer.Option(help="Size of the workloads (1.0 = the issues' sizes where feasible).", min=0.01)] = 1.0,
    only: Annotated[Optional[str], typer.Option(help="Run one scenario group: pipeline or a service name.")] = None,
) -> None:
    """Measure the platform next to its baselines in one run and print the ratios.

    Uses an embedded broker (or KAFKA_BOOTSTRAP_SERVERS) and temporary databases
    (SQLite, or a fresh database on the DATABASE_URL server).
    """
    from rich.table import Table

    from meterstream.bench import run_all

    rows = run_all(scale, only, lambda msg: console.print(f"[dim]{msg}"))
    table = Table(title=f"meterstream bench (scale {scale})")
    for col in ("scenario", "measured", "baseline", "ratio", "target", "ok"):
        table.add_column(col, justify="right" if col == "ratio" else "left")
    for r in rows:
        table.add_row(r["scenario"], r["measured"], r["baseline"], f"{r['ratio']:.2f}", r["target"],
                      "[green]yes" if r["ok"] else "[red]no")
    Console(width=max(Console().width, 150)).print(table)


@db_app.command("upgrade")
def db_upgrade(
    service_name: Annotated[Optional[str], typer.Argument(metavar="SERVICE", help="Only this service (default: all).")] = None,
    run_dir: RunDir = None,
) -> None:
    """Migrate each service's database to the latest schema."""
    from shared import db

    settings = _settings(run_dir)
    for name in [service_name] if service_name else [s for s in SERVICES if s != "gateway"]:
        db.upgrade(name, settings.database_url_for(name))
        console.print(f"{name}: at head")


@topics_app.command("create")
def topics_create() -> None:
    """Create every contract topic with its partitions (idempotent); what `up` does, for deployments."""
    import asyncio

    from shared.bus import ensure_topics, wait_for_broker

    settings = Settings()

    async def _run() -> None:
        await wait_for_broker(settings)
        await ensure_topics(settings)

    asyncio.run(_run())
    console.print(f"topics ready on {settings.kafka_bootstrap_servers}")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="The user's email (their login).")],
    role: Annotated[str, typer.Option(help="customer, broker or operations.")] = "operations",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = ...,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    run_dir: RunDir = None,
) -> None:
    """Create a user directly in portfolio's database (first operations user of a new deployment)."""
    from services.portfolio.entrypoints.admin import ensure_user

    if role not in ("customer", "broker", "operations"):
        raise typer.BadParameter("role must be customer, broker or operations")
    created = ensure_user(_settings(run_dir), email, password, role, name)  # type: ignore[arg-type]
    console.print(f"{email}: {'created' if created else 'already exists (password unchanged)'}")


@contracts_app.command("export")
def contracts_export(
    out: Annotated[Path, typer.Option(help="Folder for the schemas and asyncapi.yaml.")] = Path("shared/contracts"),
) -> None:
    """Regenerate the committed JSON Schemas and the AsyncAPI document from the models."""
    from shared.contracts.export import export

    for path in export(out):
        console.print(f"wrote {path}")


if __name__ == "__main__":
    app()
