"""shared.db's bulk helpers on a real database (SQLite, or PostgreSQL when
DATABASE_URL is set, where lists go as array literals when they can)."""
from __future__ import annotations

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, select

from shared import db

pytestmark = pytest.mark.integration

metadata = MetaData()
things = Table("test_things", metadata, Column("name", String(40), primary_key=True), Column("n", Integer),
               Column("x", Float))
# Values an array literal must quote, or must not be used for (quotes, backslashes)
NAMES = ["plain", "a b", " padded ", "NULL", "", "{braced}", "a,b", "é", 'say "hi"', "back\\slash"]
FLOATS = [0.1, 1e-300, 5e-324, -1.5e-7, 2.0**70, 123456789.123456789, float("inf"), -7.25, 3.0, 1 / 3]


@pytest.fixture
def engine(server_database_url, tmp_path):
    engine = db.make_engine(server_database_url or f"sqlite:///{tmp_path / 'things.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("names", [NAMES, NAMES[:-2]], ids=["with quotes", "without"])
def test_bulk_upsert_and_any_of_round_trip_every_value(engine, names):
    rows = [(name, i * 10**8, x) for i, (name, x) in enumerate(zip(names, FLOATS))]
    with engine.begin() as conn:
        db.bulk_upsert(conn, things, ("name", "n", "x"), rows, keys=["name"], update=["n", "x"])
        db.bulk_upsert(conn, things, ("name", "n", "x"), [(names[0], -1, 0.5)], keys=["name"], update=["n", "x"])
    with engine.connect() as conn:
        got = {r.name: (r.n, r.x) for r in conn.execute(select(things).where(db.any_of(conn, things.c.name, names)))}
        by_n = conn.execute(select(things.c.name).where(db.any_of(conn, things.c.n, [10**8, 2 * 10**8]))).scalars()
        assert sorted(by_n) == sorted(names[1:3])
    assert got.keys() == set(names)
    assert got[names[0]] == (-1, 0.5)
    assert all(got[name][0] == n and got[name][1] == x for name, n, x in rows[1:])


def test_array_literals_are_only_made_where_they_are_exact():
    assert db.pg_array_literal(["a b", ""]) == '{"a b",""}'
    assert db.pg_array_literal([1, 2]) == "{1,2}" and db.pg_array_literal([0.1]) == "{0.1}"
    assert db.pg_array_literal(['say "hi"']) is None and db.pg_array_literal(["back\\slash"]) is None
    assert db.pg_array_literal([1, "a"]) is None and db.pg_array_literal([True]) is None
    assert db.pg_array_literal([]) is None
