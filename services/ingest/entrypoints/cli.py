"""``meterstream ingest FILE...``: upload D+1 files through the public API with a
progress bar and a summary table."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from shared.cli import Email, GatewayUrl, Password, detail, gateway_client
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

COUNTS = ("accepted", "revised", "unchanged", "superseded", "rejected", "flagged", "register_reads")


class _ProgressReader:
    """A file object that advances a progress bar as httpx reads it."""

    def __init__(self, path: Path, progress: Progress, task):
        self._file, self._progress, self._task = path.open("rb"), progress, task

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._progress.advance(self._task, len(chunk))
        return chunk

    def close(self) -> None:
        self._file.close()


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_files(
        files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV, XLSX or JSON files.")],
        url: GatewayUrl = "http://127.0.0.1:8000",
        email: Email = "ops@meterstream.local",
        password: Password = None,
        profile: Annotated[Optional[str], typer.Option(help="Feed profile pinning the supplier's format.")] = None,
    ) -> None:
        """Upload meter data files to ingest and show what happened to every row.

        Rejected rows are listed by `GET /api/v1/ingest/batches/{id}/rejections` (the table shows the batch ids).
        """
        console = Console()
        client = gateway_client(url, email, password, console)

        table = Table(title="ingest summary")
        for col in ("file", "batch", "format", *COUNTS):
            table.add_column(col, overflow="fold")
        failed = 0
        with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                      console=console) as progress:
            for path in files:
                task = progress.add_task(path.name, total=path.stat().st_size)
                reader = _ProgressReader(path, progress, task)
                try:
                    r = client.post("/api/v1/ingest/files", files={"file": (path.name, reader)},
                                    data={"profile": profile} if profile else None)
                finally:
                    reader.close()
                if r.status_code >= 400:
                    failed += 1
                    table.add_row(path.name, "-", f"[red]{r.status_code}: {detail(r)}", *[""] * len(COUNTS))
                    continue
                batch = r.json()
                table.add_row(path.name, batch["batch_id"], batch["detected_format"] or "",
                              *(str(batch["counts"][c]) for c in COUNTS))
        console.print(table)
        if failed:
            raise typer.Exit(1)
