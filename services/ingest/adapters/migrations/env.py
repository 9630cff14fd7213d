from services.ingest.adapters.tables import metadata
from shared.alembic_env import run

run(metadata)
