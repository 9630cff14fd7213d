from services.alerts.adapters.tables import metadata
from shared.alembic_env import run

run(metadata)
