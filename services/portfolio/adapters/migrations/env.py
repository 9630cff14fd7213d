from services.portfolio.adapters.tables import metadata
from shared.alembic_env import run

run(metadata)
