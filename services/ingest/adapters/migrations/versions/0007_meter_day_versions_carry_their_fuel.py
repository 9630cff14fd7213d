"""meter-day versions carry their supply point's fuel

The relay renders each current version as a MeterDayRead, which names the fuel.
It took the fuel from a join with the supply points, one index lookup per
version: fetching a 100,000-meter file's versions took 0.31-0.38 s with the
join against 0.20-0.21 s without on SQLite, and 0.64 s against 0.36 s on
PostgreSQL. A supply point's fuel never changes, so each version stores it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:10:00
"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


@contextmanager
def _rebuilding():
    """SQLite rebuilds the table to change a column, and the copy's AUTOINCREMENT
    counter starts from the highest ``seq`` left: carry the old counter over, as an
    opt-out purge may have deleted the newest versions and a ``seq`` is never reused."""
    bind = op.get_bind()
    counter = sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'ingest_meter_days'")
    before = bind.execute(counter).scalar() if bind.dialect.name == "sqlite" else None
    with op.batch_alter_table('ingest_meter_days', table_kwargs={'sqlite_autoincrement': True}) as batch:
        yield batch
    if before is not None:
        highest = max(before, bind.execute(counter).scalar() or 0)
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'ingest_meter_days'"))
        bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('ingest_meter_days', :n)"), {"n": highest})


def upgrade() -> None:
    # Added with a placeholder default (SQLite cannot add a NOT NULL column without
    # one), filled in from the supply points, and the default dropped again.
    with op.batch_alter_table('ingest_meter_days') as batch:
        batch.add_column(sa.Column('fuel', sa.String(length=11), nullable=False, server_default='electricity'))
    op.execute("UPDATE ingest_meter_days SET fuel = (SELECT sp.fuel FROM ingest_supply_points sp "
               "WHERE sp.mpxn = ingest_meter_days.mpxn) "
               "WHERE EXISTS (SELECT 1 FROM ingest_supply_points sp WHERE sp.mpxn = ingest_meter_days.mpxn)")
    with _rebuilding() as batch:
        batch.alter_column('fuel', server_default=None)


def downgrade() -> None:
    with _rebuilding() as batch:
        batch.drop_column('fuel')
