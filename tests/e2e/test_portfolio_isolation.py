"""Tenant isolation: every portfolio endpoint (enumerated from the merged
OpenAPI document, so new ones are covered automatically) called with another
tenant's ids answers 403/404 and never their data; bad input is 422, never 500."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from services.gateway.domain.routing import service_for
from shared.synthetic.demo import demo_dataset
from tests.e2e.conftest import TODAY

pytestmark = pytest.mark.e2e

OTHER = {
    "customer": "CUST-ISOLATION-OTHER", "account": "900000000001", "site": "SITE-OTHER-1",
    "mpxn": "1900000000013", "gas": "9988776655", "contact": "CON-OTHER-1",
    "email": "other@tenant.example", "password": "other-password",
}
METHODS = ("get", "post", "put", "patch", "delete")


def other_directory() -> dict:
    site = lambda sid, mpxn, fuel: {  # noqa: E731
        "id": sid, "name": f"Other {sid}", "postcode": "LS1 1AA", "weather_location": "Leeds",
        "supply_points": [{"mpxn": mpxn, "fuel": fuel, "meter_type": "smart",
                           "profile_class": "03" if fuel == "electricity" else None}]}
    return {
        "customers": [{"id": OTHER["customer"], "name": "Other Tenant Ltd", "accounts": [{
            "id": OTHER["account"], "name": "Other Tenant", "bill_cycle_day": 3,
            "sites": [site(OTHER["site"], OTHER["mpxn"], "electricity"), site("SITE-OTHER-2", OTHER["gas"], "gas")],
            "contacts": [{"id": OTHER["contact"], "type": "Site", "name": "Olive Other", "email": "olive@tenant.example"}],
        }]}],
        "users": [{"id": "USR-OTHER", "email": OTHER["email"], "name": "Other", "role": "customer",
                   "password": OTHER["password"], "account_ids": [OTHER["account"]]}],
    }


@pytest.fixture(scope="module")
def tenants(demo_stack):
    demo_stack.ops.put("/api/v1/admin/directory", other_directory())
    other = demo_stack.client(OTHER["email"], OTHER["password"])
    group = other.http.post("/api/v1/portfolios", json={"name": "Mine", "site_ids": [OTHER["site"], "SITE-OTHER-2"]})
    assert group.status_code == 201, group.text
    ids = {"portfolio_id": group.json()["id"], "mpxn": OTHER["mpxn"], "account_id": OTHER["account"],
           "contact_id": OTHER["contact"]}
    return demo_stack, other, ids


def portfolio_operations(doc: dict) -> list[tuple[str, str, dict]]:
    return [(method, path, op) for path, item in doc["paths"].items() if service_for(path) == "portfolio"
            for method, op in item.items() if method in METHODS]


def fill(path: str, ids: dict) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in ids:
            raise AssertionError(f"no other-tenant id for path parameter {name!r} in {path}: extend the suite")
        return ids[name]

    return re.sub(r"\{(\w+)\}", value, path)


VALID_QUERY = {"start": (TODAY - timedelta(days=3)).isoformat(), "end": TODAY.isoformat(), "granularity": "day",
               "fuel": "electricity", "period": "current", "layout": "long", "format": "csv"}
BODIES = {"post": {"name": "stolen", "site_ids": [OTHER["site"]], "type": "Site"},
          "patch": {"name": "stolen", "phone": "000", "add_site_ids": [OTHER["site"]]},
          "put": {}}


def test_every_endpoint_refuses_another_tenants_ids(tenants):
    stack, other, ids = tenants
    customer = stack.customer
    operations = portfolio_operations(customer.http.get("/openapi.json").json())
    assert len(operations) >= 15, [p for _, p, _ in operations]
    secret_markers = [OTHER["customer"], OTHER["account"], OTHER["mpxn"], OTHER["gas"], OTHER["contact"],
                      ids["portfolio_id"], "Other Tenant", "olive@tenant.example"]
    checked = 0
    for method, path, op in operations:
        url = fill(path, ids)
        params = {p["name"]: VALID_QUERY[p["name"]] for p in op.get("parameters", [])
                  if p.get("in") == "query" and p["name"] in VALID_QUERY}
        kwargs = {"json": BODIES.get(method)} if method in ("post", "put", "patch") else {}
        r = customer.http.request(method.upper(), url, params=params, **kwargs)
        # Ids the caller sent may be echoed in the error message; anything else is a leak.
        sent = url + repr(kwargs)
        leaked = [m for m in secret_markers if m in r.text and m not in sent]
        if "{" in path or method != "get":
            assert r.status_code in (403, 404), f"{method.upper()} {url} -> {r.status_code}: {r.text[:300]}"
        else:
            assert r.status_code in (200, 403), f"{method.upper()} {url} -> {r.status_code}"
        assert not leaked, f"{method.upper()} {url} leaked {leaked}"
        checked += 1
    assert checked == len(operations)
    # The other tenant does see their own things (the ids are real).
    assert other.get(f"/api/v1/portfolios/{ids['portfolio_id']}")["site_count"] == 2
    assert [a["id"] for a in other.get("/api/v1/accounts")] == [OTHER["account"]]


BAD_QUERIES = [
    {"start": "yesterday", "end": "2024-01-02"},
    {"start": "2024-01-02", "end": "2024-01-01"},
    {"start": "2024-01-01T00:10:00", "end": "2024-01-02"},
    {"start": "2024-01-01", "end": "2024-01-02", "granularity": "fortnight"},
    {"start": "2024-01-01", "end": "2024-01-02", "fuel": "water"},
    {"start": "1000-01-01", "end": "9999-12-31"},
    {"start": "2024-01-01", "end": "2024-01-02", "period": "someday", "layout": "diagonal", "format": "pdf"},
]


def test_bad_input_is_422_never_500(tenants):
    stack, _, _ = tenants
    ops, customer = stack.ops, stack.customer  # each property access logs in
    doc = customer.http.get("/openapi.json").json()
    head_office = next(p.mpxn for s, p in demo_dataset(TODAY).supply_points() if s.site_id == "SITE-LON-HQ")
    own = {"portfolio_id": "all", "mpxn": head_office, "account_id": "300104512", "contact_id": "CON-NW-FACILITIES"}
    for method, path, op in portfolio_operations(doc):
        url = fill(path, own)
        query_names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
        for bad in BAD_QUERIES if query_names else [{}]:
            params = {k: v for k, v in bad.items() if k in query_names}
            kwargs = {"content": b"{not json", "headers": {"content-type": "application/json"}} \
                if method in ("post", "put", "patch") else {}
            r = ops.http.request(method.upper(), url, params=params, **kwargs)
            assert r.status_code < 500, f"{method.upper()} {url} {params} -> {r.status_code}: {r.text[:300]}"
        garbage = re.sub(r"\{\w+\}", "..%2F'--%20%3B", path)
        r = customer.http.request(method.upper(), garbage)
        assert r.status_code < 500, f"{method.upper()} {garbage} -> {r.status_code}"
