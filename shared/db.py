"""Database helpers: engines for SQLite or PostgreSQL, and per-service Alembic upgrades.

Each service owns its tables (prefixed with its name) and its own Alembic
history (``alembic_version_<service>``), so services share a PostgreSQL
database without sharing tables.
"""
from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from importlib import resources

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Column, ColumnElement, Connection, Engine, LargeBinary, Table, any_, bindparam, cast, create_engine, event,
    func, literal_column, select, text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import NullType, TypeEngine

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
            # Checkpoint at about 80 MB of WAL rather than 4 MB: at 4 MB every bulk
            # commit (an ingest chunk) copied the pages it wrote back into the
            # database file, rewriting the same index pages again and again.
            cur.execute("PRAGMA wal_autocheckpoint=20000")
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


def plain_rows(conn: Connection, statement: Executable) -> list[tuple]:
    """The statement's rows as the driver returns them: plain tuples, without
    SQLAlchemy's Row and result conversion per row (so SQLite's dates and times are
    ISO text, its booleans 0 and 1). For hot fetches of many rows, where those cost
    as much as the fetch itself.

    On PostgreSQL the rows come in binary: a blob as its bytes rather than hex text,
    numbers and dates without parsing (the relay's fetch and render of 100,000
    versions took 0.54-0.56 s of CPU against 0.64 s). The statement's parameters go
    to the driver as they are, without SQLAlchemy's bind processing."""
    if conn.dialect.name == "postgresql":
        compiled = statement.compile(dialect=conn.dialect)
        with conn.connection.dbapi_connection.cursor(binary=True) as cursor:
            cursor.execute(str(compiled), compiled.params)
            return cursor.fetchall()
    result = conn.execute(statement)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


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


# Bulk paths for hot loops. SQLAlchemy's executemany processes every parameter of
# every row in Python (several microseconds a row); these hand tuples straight to
# the driver - COPY on PostgreSQL, the C executemany on SQLite - after converting
# each value with the column type's own bind processor, so reads through
# SQLAlchemy see exactly what a Core insert would have stored.

def bulk_insert(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert rows given as tuples in ``columns`` order, inside the caller's transaction."""
    if not rows:
        return
    rows = _bind(conn, table, columns, rows)
    names = ", ".join(_quote(conn, c) for c in columns)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            types = _copy_types(conn, table, columns)
            binary = " (FORMAT BINARY)" if types else ""
            with cursor.copy(f"COPY {_quote(conn, table.name)} ({names}) FROM STDIN{binary}") as copy:
                if types:
                    copy.set_types(types)
                for r in rows:
                    copy.write_row(r)
        else:
            marks = ", ".join("?" * len(columns))
            cursor.executemany(f"INSERT INTO {_quote(conn, table.name)} ({names}) VALUES ({marks})", rows)
    finally:
        cursor.close()


def _copy_types(conn: Connection, table: Table, columns: Sequence[str]) -> list[str] | None:
    """The columns' PostgreSQL type names for a binary COPY (which sends a blob as
    its bytes rather than as hex text: about 40% less time for ingest's rows), or None
    when psycopg does not know one of them by name: then COPY goes as text."""
    import psycopg

    names = [table.c[c].type.compile(conn.dialect).split("(")[0].lower() for c in columns]  # VARCHAR(13) -> varchar
    return names if all(psycopg.adapters.types.get(name) for name in names) else None


def bulk_upsert(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple], keys: Sequence[str],
                update: Sequence[str]) -> None:
    """Like :func:`upsert` (last row wins) for rows given as tuples, at bulk speed.

    PostgreSQL gets one statement over column arrays (``unnest``); a key must then
    appear only once in ``rows``, as ON CONFLICT cannot touch a row twice."""
    if not rows:
        return
    rows = _bind(conn, table, columns, rows)
    names = ", ".join(_quote(conn, c) for c in columns)
    conflict = (f" ON CONFLICT ({', '.join(_quote(conn, k) for k in keys)}) DO UPDATE SET "
                + ", ".join(f"{_quote(conn, c)} = excluded.{_quote(conn, c)}" for c in update))
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            arrays = ", ".join(f"%s::{table.c[c].type.compile(conn.dialect)}[]" for c in columns)
            cursor.execute(f"INSERT INTO {_quote(conn, table.name)} ({names}) SELECT * FROM unnest({arrays})"
                           + conflict, [_array_param(col) for col in zip(*rows)])
        else:
            marks = ", ".join("?" * len(columns))
            cursor.executemany(f"INSERT INTO {_quote(conn, table.name)} ({names}) VALUES ({marks})" + conflict, rows)
    finally:
        cursor.close()


def any_of(conn: Connection, column: Column, values: Collection) -> ColumnElement[bool]:
    """``column IN values`` bound as one parameter (a PostgreSQL array, a JSON
    array on SQLite) instead of one per value, so long lists stay cheap."""
    if conn.dialect.name == "postgresql":
        literal = pg_array_literal(values)
        if literal is None:
            return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        # An untyped parameter: PostgreSQL then reads it as the array type itself, once,
        # rather than as text cast to an array for every row it filters.
        return column == any_(cast(bindparam(None, literal, type_=NullType()), ARRAY(column.type)))
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    stored = [process(v) for v in values] if process else list(values)
    each = func.json_each(bindparam(None, orjson.dumps(stored).decode()))
    return column.in_(select(literal_column("value")).select_from(each))


def pg_array_literal(values: Collection) -> str | None:
    """``values`` as a PostgreSQL array literal (``{"a","b"}``), or None unless they
    are all strings, all ints or all floats (and strings without quotes or backslashes).
    psycopg adapts a list value by value: for 10,000 values the literal is sent
    four to five times faster, which ingest pays several times per chunk."""
    kinds = set(map(type, values))
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    if kind is str:
        together = "".join(values)
        return None if '"' in together or "\\" in together else '{"' + '","'.join(values) + '"}'
    if kind is int:
        return "{" + ",".join(map(str, values)) + "}"
    if kind is float:
        return "{" + ",".join(map(repr, values)) + "}"  # repr: the shortest text that reads back as the same float
    return None


def _array_param(values: Sequence) -> str | list:
    literal = pg_array_literal(values)
    return list(values) if literal is None else literal


def _bind(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple]) -> Sequence[tuple]:
    processors = [_processor(conn, table.c[c].type) for c in columns]
    if not any(processors):
        return rows
    converted = []
    for process, values in zip(processors, zip(*rows)):
        if process is None:
            converted.append(values)
        elif values.count(values[0]) == len(values):  # e.g. one timestamp for a whole chunk: convert it once
            converted.append((process(values[0]),) * len(values))
        else:
            converted.append(list(map(process, values)))
    return list(zip(*converted))


def _processor(conn: Connection, type_: TypeEngine) -> Callable | None:
    if isinstance(type_, LargeBinary):
        return None  # it only wraps bytes in DB-API Binary, and both drivers take plain bytes
    return type_.dialect_impl(conn.dialect).bind_processor(conn.dialect)


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)
