"""The gateway process."""
from __future__ import annotations

import uvicorn

from services.gateway.entrypoints.app import create_app
from shared.config import Settings
from shared.logging import configure_logging


def serve(settings: Settings) -> None:
    configure_logging("gateway", settings.log_level, settings.log_format)
    uvicorn.run(create_app(settings), host=settings.gateway_host, port=settings.gateway_port,
                log_config=None, access_log=False, lifespan="on")
