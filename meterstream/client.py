"""A small client of the public API (used by the demo, replay, bench and tests)."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import httpx
import orjson


class ApiError(RuntimeError):
    pass


class ApiClient:
    def __init__(self, base_url: str, timeout: float = 120.0):
        self.http = httpx.Client(base_url=base_url, timeout=timeout)

    def login(self, email: str, password: str) -> "ApiClient":
        r = self.http.post("/api/v1/auth/token", data={"username": email, "password": password})
        self._check(r)
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        return self

    @staticmethod
    def _check(r: httpx.Response) -> httpx.Response:
        if r.status_code >= 400:
            raise ApiError(f"{r.request.method} {r.request.url.path} -> {r.status_code}: {r.text[:500]}")
        return r

    def get(self, path: str, **params) -> dict | list:
        return self._check(self.http.get(path, params=params)).json()

    def put(self, path: str, body: dict) -> dict:
        content = orjson.dumps(body)  # handles dates and datetimes
        return self._check(self.http.put(path, content=content, headers={"content-type": "application/json"})).json()

    def upload(self, filename: str, content: bytes | Iterable[bytes], profile: str | None = None) -> dict:
        data = {"profile": profile} if profile else None
        files = {"file": (filename, content if isinstance(content, bytes) else b"".join(content), "text/csv")}
        return self._check(self.http.post("/api/v1/ingest/files", files=files, data=data)).json()

    def wait_for(self, predicate: Callable[[dict], bool], what: str, timeout: float = 120.0) -> dict:
        """Poll /api/v1/ops/status (operations) until predicate(status) holds."""
        deadline = time.monotonic() + timeout
        status: dict = {}
        while time.monotonic() < deadline:
            status = self.get("/api/v1/ops/status")  # type: ignore[assignment]
            try:
                if predicate(status):
                    return status
            except (KeyError, TypeError):
                pass
            time.sleep(0.5)
        raise ApiError(f"timed out after {timeout:.0f} s waiting for {what}; last status: {status}")
