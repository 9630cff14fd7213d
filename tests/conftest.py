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
from sqlalchemy import create_engine, text

from meterstream.broker import free_port, start_broker
from shared.config import Settings
from shared.db import normalise_url

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


@pytest.fixture
def server_database_url() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test when DATABASE_URL names a
    server, dropped afterwards; None means the tests use SQLite files."""
    base = os.environ.get("DATABASE_URL")
    if not base or base.startswith("sqlite"):
        yield None
        return
    name = f"meterstream_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalise_url(base).rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path, broker, server_database_url) -> Settings:
    """Settings for in-process integration tests: real broker, real database,
    Redis when REDIS_URL is set."""
    return Settings(
        run_dir=tmp_path / "run",
        kafka_bootstrap_servers=broker,
        database_url=server_database_url,
        redis_url=os.environ.get("REDIS_URL"),
        jwt_secret="test-secret-" + uuid.uuid4().hex,
        internal_token="internal-" + uuid.uuid4().hex,
        gateway_port=free_port(),
        **{f"{s}_url": f"http://127.0.0.1:{free_port()}" for s in ("ingest", "portfolio", "alerts", "aq")},
    )


def unique_topic_suffix() -> str:
    return uuid.uuid4().hex[:8]
