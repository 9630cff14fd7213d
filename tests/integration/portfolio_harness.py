"""In-process portfolio service on the real broker and database, called as the
gateway would (internal token + principal header)."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone

from fastapi.testclient import TestClient

from meterstream.demo import directory, user_id
from services.portfolio.adapters import repository as repo
from services.portfolio.domain.directory import Directory
from services.portfolio.entrypoints.main import build
from shared import db
from shared.auth import Principal
from shared.config import Settings
from shared.contracts.events import MeterDayRead
from shared.synthetic.demo import BROKER_EMAIL, DEMO_EMAIL, OPS_EMAIL, demo_dataset
from shared.synthetic.meters import MeterSpec, meter_day

PRINCIPALS = {
    "customer": Principal(user_id=user_id(DEMO_EMAIL), email=DEMO_EMAIL, role="customer"),
    "broker": Principal(user_id=user_id(BROKER_EMAIL), email=BROKER_EMAIL, role="broker"),
    "ops": Principal(user_id=user_id(OPS_EMAIL), email=OPS_EMAIL, role="operations"),
}


class Caller:
    def __init__(self, client: TestClient, settings: Settings, principal: Principal):
        self.client, self.principal = client, principal
        self.headers = {"x-internal-token": settings.internal_key, "x-principal": principal.model_dump_json()}

    def get(self, path: str, **params):
        return self.client.get(path, params=params, headers=self.headers)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(path, json=json, headers=self.headers, **kwargs)

    def patch(self, path: str, json):
        return self.client.patch(path, json=json, headers=self.headers)

    def put(self, path: str, json):
        return self.client.put(path, json=json, headers=self.headers)

    def delete(self, path: str):
        return self.client.delete(path, headers=self.headers)


def read(spec: MeterSpec, day: date, version: int = 1) -> MeterDayRead:
    d = meter_day(spec, day)
    return MeterDayRead(
        event_id=f"{spec.mpxn}:{day}:{version}", mpxn=spec.mpxn, fuel=spec.fuel, settlement_date=day, version=version,
        content_hash=hashlib.sha256(repr(d).encode()).hexdigest(), kwh=d.values, quality=d.quality,
        batch_id="test", received_at=datetime.now(timezone.utc),
    )


@contextmanager
def portfolio_service(settings: Settings, today: date) -> Iterator[tuple[TestClient, object]]:
    """The service with the demo directory applied (as operations would)."""
    url = settings.database_url_for("portfolio")
    db.upgrade("portfolio", url)
    service = build(settings)
    from shared.runtime import build_app

    with service.engine.begin() as conn:
        repo.apply_directory(conn, Directory.model_validate(directory(demo_dataset(today))), today)
    with TestClient(build_app(service)) as client:
        yield client, service
    service.engine.dispose()


def callers(client: TestClient, settings: Settings) -> dict[str, Caller]:
    return {k: Caller(client, settings, p) for k, p in PRINCIPALS.items()}
