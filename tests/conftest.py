"""Shared fixtures: the real embedded broker, a real database (SQLite, or
PostgreSQL when DATABASE_URL points at one), and Redis when REDIS_URL is set.

Every process a fixture starts is stopped by it.
"""
from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from meterstream.broker import free_port, start_broker
from shared.config import Settings
from shared.db import temporary_database

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session")
def broker(tmp_path_factory) -> Iterator[str]:
    """A real Tansu broker on a free port for the whole session."""
    port = free_port()
    proc = start_broker(port, tmp_path_factory.mktemp("broker") / "broker.log")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def fresh_server_database():
    """A fresh PostgreSQL database when DATABASE_URL names a server (dropped
    afterwards); None means SQLite files."""
    return temporary_database(os.environ.get("DATABASE_URL"))


@pytest.fixture
def server_database_url() -> Iterator[str | None]:
    with fresh_server_database() as url:
        yield url


def test_settings(run_dir: Path, broker: str, database_url: str | None) -> Settings:
    """Settings for tests: real broker, real database (SQLite files in run_dir or
    a fresh PostgreSQL database), Redis when REDIS_URL is set, free ports."""
    return Settings(
        run_dir=run_dir,
        kafka_bootstrap_servers=broker,
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL"),
        jwt_secret="test-secret-" + uuid.uuid4().hex,
        internal_token="internal-" + uuid.uuid4().hex,
        gateway_port=free_port(),
        **{f"{s}_url": f"http://127.0.0.1:{free_port()}" for s in ("ingest", "portfolio", "alerts", "aq")},
    )


@pytest.fixture
def settings(tmp_path, broker, server_database_url) -> Settings:
    return test_settings(tmp_path / "run", broker, server_database_url)
