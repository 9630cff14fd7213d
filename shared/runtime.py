"""How every service process runs: an internal FastAPI app served by uvicorn,
with the service's background workers (bus consumers, relays, timers) started
and supervised inside the same event loop.

Every service answers ``/healthz`` (alive), ``/readyz`` (database and bus
reachable), ``/metrics`` (Prometheus) and ``/internal/status`` (counters).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine

from shared import db
from shared.auth import require_internal
from shared.bus import EventProducer, wait_for_broker
from shared.config import Settings
from shared.logging import configure_logging
from shared.metrics import HTTP_REQUESTS
from shared.outbox import OutboxRelay, ProcessRelay

log = logging.getLogger(__name__)

Worker = Callable[[asyncio.Event], Awaitable[None]]


@dataclass
class Service:
    """What a service contributes: its routers, workers and status counters."""

    name: str
    settings: Settings
    engine: Engine
    routers: list[APIRouter] = field(default_factory=list)
    workers: dict[str, Worker] = field(default_factory=dict)
    producer: EventProducer | None = None
    outbox: OutboxRelay | ProcessRelay | None = None
    status: Callable[[], dict[str, Any]] = dict
    on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


async def supervise(name: str, worker: Worker, stop: asyncio.Event) -> None:
    """Run a worker until stop; a crash is logged and the worker restarted with backoff."""
    delay = 1.0
    while not stop.is_set():
        started = time.monotonic()
        try:
            await worker(stop)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("worker %s crashed; restarting in %.0fs", name, delay)
            if time.monotonic() - started > 60:
                delay = 1.0
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 30)


def build_app(svc: Service, **kwargs: Any) -> FastAPI:
    """The service's FastAPI app: its routers plus the shared operational endpoints;
    its lifespan starts the producer and supervises the workers."""
    name, settings, engine = svc.name, svc.settings, svc.engine
    stop = asyncio.Event()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        await wait_for_broker(settings)
        if svc.producer:
            await svc.producer.start()
        for hook in svc.on_start:
            await hook()
        workers = {**svc.workers, **({"outbox-relay": svc.outbox.run} if svc.outbox else {})}
        tasks = [asyncio.create_task(supervise(n, w, stop), name=n) for n, w in workers.items()]
        app.state.ready = True
        log.info("%s ready with workers: %s", name, ", ".join(workers) or "none")
        try:
            yield
        finally:
            app.state.ready = False
            stop.set()
            done, pending = await asyncio.wait(tasks, timeout=15) if tasks else (set(), set())
            for t in pending:
                t.cancel()
            for hook in svc.on_stop:
                await hook()
            if svc.producer:
                await svc.producer.stop()

    app = FastAPI(title=f"meterstream {name}", lifespan=lifespan, **kwargs)
    app.state.settings = settings
    app.state.engine = engine
    app.state.service = svc
    app.state.ready = False
    for router in svc.routers:
        app.include_router(router)

    @app.middleware("http")
    async def _timing(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        HTTP_REQUESTS.labels(name, request.method, getattr(route, "path", "unmatched"), response.status_code).observe(
            time.perf_counter() - started
        )
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        checks = {"workers": "ok" if app.state.ready else "starting"}
        try:
            db.ping(engine)
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - report, don't crash
            checks["database"] = f"error: {exc.__class__.__name__}"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/internal/status", include_in_schema=False, dependencies=[Depends(require_internal)])
    def status() -> dict[str, Any]:
        return {"service": name, "ready": app.state.ready, **svc.status()}

    return app


def serve(service: Service) -> None:
    """Run the service until SIGINT/SIGTERM."""
    settings = service.settings
    configure_logging(service.name, settings.log_level, settings.log_format)
    url = urlparse(settings.url_of(service.name))
    uvicorn.run(build_app(service), host=url.hostname, port=url.port, log_config=None, access_log=False, lifespan="on")
