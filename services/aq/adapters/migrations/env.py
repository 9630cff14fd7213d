from services.aq.adapters.tables import metadata
from shared.alembic_env import run

run(metadata)
