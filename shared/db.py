"""Database helpers: engines for SQLite or PostgreSQL, and per-service Alembic upgrades.

Each service owns its tables (prefixed with its name) and its own Alembic
history (``alembic_version_<service>``), so services share a PostgreSQL
database without sharing tables.
"""
from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text

log = logging.getLogger(__name__)


def normalise_url(url: str) -> str:
    """Accept plain postgres URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files(f"services.{service}.adapters") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    cfg.attributes["version_table"] = f"alembic_version_{service}"
    return cfg


def upgrade(service: str, url: str) -> None:
    """Bring the service's schema to the latest migration."""
    command.upgrade(alembic_config(service, url), "head")
    log.info("%s schema at head", service)


@contextlib.contextmanager
def temporary_database(server_url: str | None) -> Iterator[str | None]:
    """A fresh, empty database on the same PostgreSQL server, dropped afterwards
    (for tests and benchmarks); None (SQLite files) passes through."""
    if not server_url or server_url.startswith("sqlite"):
        yield None
        return
    name = f"meterstream_tmp_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield normalise_url(server_url).rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def upsert(conn, table, rows: list[dict], keys: list[str], update: list[str], newer_than: str | None = None) -> None:
    """INSERT ... ON CONFLICT DO UPDATE for SQLite and PostgreSQL alike.

    With ``newer_than`` (a column name) the existing row is replaced only when
    the incoming value of that column is greater, so the newest version wins
    whatever the arrival order and a redelivery changes nothing.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    where = table.c[newer_than] < stmt.excluded[newer_than] if newer_than else None
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys],
        set_={c: stmt.excluded[c] for c in update},
        where=where,
    )
    conn.execute(stmt, rows)
