"""Calls from the gateway to the services' internal HTTP APIs."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from shared.auth import Principal
from shared.config import Settings

# Hop-by-hop headers (RFC 9110 7.6.1) and ones the gateway sets itself.
_DROP_REQUEST = {"host", "connection", "keep-alive", "transfer-encoding", "te", "upgrade", "authorization",
                 "x-internal-token", "x-principal", "content-length"}
_DROP_RESPONSE = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class Upstreams:
    def __init__(self, settings: Settings, services: tuple[str, ...]):
        self.settings = settings
        self.services = services
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=3.0))
        self._openapi: tuple[float, dict[str, dict]] | None = None

    def url(self, service: str, path: str) -> str:
        return self.settings.url_of(service).rstrip("/") + path

    def headers(self, principal: Principal | None = None, incoming: dict[str, str] | None = None) -> dict[str, str]:
        headers = {k: v for k, v in (incoming or {}).items() if k.lower() not in _DROP_REQUEST}
        headers["x-internal-token"] = self.settings.internal_key
        if principal:
            headers["x-principal"] = principal.model_dump_json()
        return headers

    @staticmethod
    def response_headers(headers: httpx.Headers) -> dict[str, str]:
        return {k: v for k, v in headers.items() if k.lower() not in _DROP_RESPONSE}

    async def get_json(self, service: str, path: str, timeout: float = 5.0) -> tuple[int, Any]:
        try:
            r = await self.client.get(self.url(service, path), headers=self.headers(), timeout=timeout)
            return r.status_code, r.json()
        except (httpx.HTTPError, ValueError) as exc:
            return 503, {"status": "unreachable", "error": exc.__class__.__name__}

    async def gather_json(self, path: str) -> dict[str, tuple[int, Any]]:
        results = await asyncio.gather(*(self.get_json(s, path) for s in self.services))
        return dict(zip(self.services, results))

    async def openapi_specs(self, max_age: float = 30.0) -> dict[str, dict]:
        """Each service's OpenAPI document, cached briefly."""
        if self._openapi and time.monotonic() - self._openapi[0] < max_age:
            return self._openapi[1]
        specs = {s: body for s, (code, body) in (await self.gather_json("/openapi.json")).items() if code == 200}
        if len(specs) == len(self.services):
            self._openapi = (time.monotonic(), specs)
        return specs

    async def close(self) -> None:
        await self.client.aclose()
