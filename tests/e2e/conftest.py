"""The whole platform as separate processes (the same Stack as `meterstream up`),
with the demo directory seeded. One stack per test module; every process it
starts is stopped at the end."""
from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date

import pytest

from meterstream.client import ApiClient
from meterstream.demo import directory
from meterstream.stack import Stack
from services.portfolio.entrypoints.admin import ensure_user
from shared.synthetic.demo import BROKER_EMAIL, BROKER_PASSWORD, DEMO_EMAIL, DEMO_PASSWORD, OPS_EMAIL, OPS_PASSWORD, demo_dataset
from tests.conftest import fresh_server_database, test_settings

TODAY = date.today()


class RunningStack:
    def __init__(self, stack: Stack):
        self.stack = stack
        self.url = stack.gateway_url
        self._clients: dict[tuple[str, str], ApiClient] = {}

    def client(self, email: str, password: str) -> ApiClient:
        """A logged-in client, one per user: logging in on every use would trip
        the gateway's login rate limit."""
        if (email, password) not in self._clients:
            self._clients[(email, password)] = ApiClient(self.url).login(email, password)
        return self._clients[(email, password)]

    @property
    def ops(self) -> ApiClient:
        return self.client(OPS_EMAIL, OPS_PASSWORD)

    @property
    def customer(self) -> ApiClient:
        return self.client(DEMO_EMAIL, DEMO_PASSWORD)

    @property
    def broker(self) -> ApiClient:
        return self.client(BROKER_EMAIL, BROKER_PASSWORD)


def start_stack(tmp_path_factory, extra_env: dict[str, str] | None = None) -> Iterator[RunningStack]:
    """Start every service on an embedded broker and seed the demo directory;
    ``extra_env`` adds environment variables (settings) for every process."""
    with fresh_server_database() as db_url:
        run_dir = tmp_path_factory.mktemp("stack")
        settings = test_settings(run_dir, "unused:0", db_url)
        env = {k: v for k, v in {"DATABASE_URL": db_url, "REDIS_URL": os.environ.get("REDIS_URL"),
                                 "JWT_SECRET": settings.jwt_secret, "INTERNAL_TOKEN": settings.internal_token,
                                 **(extra_env or {})}.items() if v}
        stack = Stack(settings, embedded_broker=True, extra_env=env)
        try:
            stack.start()
            stack.wait_ready(120)
            ensure_user(stack.settings, OPS_EMAIL, OPS_PASSWORD, "operations")
            running = RunningStack(stack)
            dataset = demo_dataset(TODAY)
            running.ops.put("/api/v1/admin/directory", directory(dataset))
            running.ops.wait_for(lambda s: s["ingest"]["supply_points"] >= len(dataset.supply_points()),
                                 "ingest to learn the demo supply points")
            yield running
        finally:
            stack.stop()


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory) -> Iterator[RunningStack]:
    yield from start_stack(tmp_path_factory)
