"""The body of every service's Alembic ``env.py``: online migrations only, with
the service's own version table so services can share one database."""
from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData

from shared.db import make_engine


def run(metadata: MetaData) -> None:
    cfg = context.config
    version_table = cfg.attributes.get("version_table", "alembic_version")
    engine = make_engine(cfg.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        context.configure(
            connection=conn,
            target_metadata=metadata,
            version_table=version_table,
            render_as_batch=conn.dialect.name == "sqlite",
        )
        context.run_migrations()
    engine.dispose()
