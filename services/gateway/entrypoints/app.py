"""The gateway: the one public front door. It authenticates callers (OAuth2
password flow issuing JWTs), forwards /api/v1 calls to the owning service with
the caller's principal, merges the services' OpenAPI documents, and serves the
web portal on the same origin."""
from __future__ import annotations

import contextlib
import logging
import time
from datetime import timedelta
from pathlib import Path

import httpx
import jwt
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.background import BackgroundTask
from swagger_ui_bundle import swagger_ui_path

from services.gateway.adapters.upstream import Upstreams
from services.gateway.domain import openapi, tokens
from services.gateway.domain.routing import PUBLIC_PATHS, UPSTREAMS, service_for
from shared.auth import Principal
from shared.bus import wait_for_broker
from shared.cache import key_value
from shared.config import Settings
from shared.metrics import HTTP_REQUESTS

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "static"
LOGIN_ATTEMPTS_PER_MINUTE = 10

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str
    name: str


class UploadTooLarge(Exception):
    pass


def create_app(settings: Settings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.upstreams = Upstreams(settings, UPSTREAMS)
        app.state.kv = key_value(settings.redis_url, settings.cache_namespace("gateway"))
        yield
        await app.state.upstreams.close()
        await app.state.kv.close()

    app = FastAPI(
        title="meterstream API",
        version="1",
        description="Half-hourly meter data, portfolios, alerts and gas Rolling AQ. "
        "Get a token at POST /api/v1/auth/token (OAuth2 password flow) and send it as `Authorization: Bearer`.",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )

    @app.middleware("http")
    async def _timing(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        HTTP_REQUESTS.labels("gateway", request.method, getattr(route, "path", "unmatched"), response.status_code).observe(
            time.perf_counter() - started
        )
        return response

    async def principal_of(request: Request, token: str | None = Depends(oauth2)) -> Principal:
        return _verify(token)

    async def principal_unless_public(request: Request, token: str | None = Depends(oauth2)) -> Principal | None:
        return None if request.url.path in PUBLIC_PATHS and not token else _verify(token)

    def _verify(token: str | None) -> Principal:
        if not token:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated", headers={"WWW-Authenticate": "Bearer"})
        try:
            return tokens.verify(token, settings.jwt_key)
        except jwt.InvalidTokenError as exc:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"invalid token: {exc}", headers={"WWW-Authenticate": "Bearer"}) from exc

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "gateway"}

    @app.get("/readyz", tags=["operations"], summary="Readiness: bus, cache and every service (each checks its database)")
    async def readyz(request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            await wait_for_broker(settings, timeout=3)
            checks["bus"] = "ok"
        except TimeoutError:
            checks["bus"] = "unreachable"
        try:
            await request.app.state.kv.ping()
            checks["cache"] = "ok"
        except Exception as exc:  # noqa: BLE001 - report, don't crash
            checks["cache"] = f"error: {exc.__class__.__name__}"
        for service, (code, body) in (await request.app.state.upstreams.gather_json("/readyz")).items():
            checks[service] = "ok" if code == 200 else str(body.get("checks", body.get("status")))
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.post("/api/v1/auth/token", tags=["auth"], summary="Log in (OAuth2 password flow) and get a bearer token")
    async def login(request: Request, form: OAuth2PasswordRequestForm = Depends()) -> Token:
        if await request.app.state.kv.hit(f"login:{form.username.lower()}", 60) > LOGIN_ATTEMPTS_PER_MINUTE:
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many login attempts; wait a minute")
        ups: Upstreams = request.app.state.upstreams
        try:
            r = await ups.client.post(ups.url("portfolio", "/internal/auth/verify"), headers=ups.headers(),
                                      json={"email": form.username, "password": form.password})
        except httpx.HTTPError as exc:
            raise HTTPException(503, "user directory unavailable, try again shortly") from exc
        if r.status_code == 401:
            raise HTTPException(401, "wrong email or password", headers={"WWW-Authenticate": "Bearer"})
        if r.status_code != 200:
            raise HTTPException(503, "user directory unavailable, try again shortly")
        principal = Principal.model_validate(r.json())
        ttl = timedelta(minutes=settings.jwt_ttl_minutes)
        return Token(access_token=tokens.issue(principal, settings.jwt_key, ttl), expires_in=int(ttl.total_seconds()),
                     role=principal.role, name=principal.name)

    @app.get("/api/v1/ops/status", tags=["operations"], summary="Counters of every service (operations only)")
    async def ops_status(request: Request, principal: Principal = Depends(principal_of)) -> dict:
        if principal.role != "operations":
            raise HTTPException(403, "needs role operations")
        return {s: body for s, (_, body) in (await request.app.state.upstreams.gather_json("/internal/status")).items()}

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_json(request: Request) -> JSONResponse:
        base = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        return JSONResponse(openapi.merge(base, await request.app.state.upstreams.openapi_specs()))

    # Swagger UI from a PyPI package, not a CDN: the docs work offline.
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="meterstream API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css", swagger_favicon_url="/favicon.ico")

    @app.api_route("/api/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def forward(request: Request, path: str, principal: Principal | None = Depends(principal_unless_public)):
        service = service_for(request.url.path)
        if service is None:
            raise HTTPException(404, f"no such API path: {request.url.path}")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_upload_bytes:
            raise HTTPException(413, f"request body over the {settings.max_upload_bytes} byte limit")
        ups: Upstreams = request.app.state.upstreams

        async def body():
            seen = 0
            async for chunk in request.stream():
                seen += len(chunk)
                if seen > settings.max_upload_bytes:
                    raise UploadTooLarge
                yield chunk

        try:
            upstream = ups.client.build_request(
                request.method, ups.url(service, request.url.path), params=request.query_params,
                headers=ups.headers(principal, dict(request.headers)),
                content=body() if request.method in ("POST", "PUT", "PATCH") else None,
            )
        except httpx.InvalidURL as exc:
            raise HTTPException(400, f"malformed request path: {exc}") from exc
        try:
            response = await ups.client.send(upstream, stream=True)
        except UploadTooLarge:
            raise HTTPException(413, f"request body over the {settings.max_upload_bytes} byte limit") from None
        except httpx.HTTPError as exc:
            log.warning("%s unreachable for %s: %s", service, request.url.path, exc)
            raise HTTPException(503, f"the {service} service is unavailable, try again shortly") from exc
        return StreamingResponse(response.aiter_raw(), response.status_code, ups.response_headers(response.headers),
                                 background=BackgroundTask(response.aclose))

    if STATIC.is_dir():
        app.mount("/", StaticFiles(directory=STATIC, html=True), name="portal")
    return app
