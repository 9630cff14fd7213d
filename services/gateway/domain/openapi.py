"""One OpenAPI document for the public API: the gateway's own routes plus the
public (/api/) routes of every service, all behind the bearer token."""
from __future__ import annotations

import copy

BEARER = {"OAuth2PasswordBearer": []}
# Set by the gateway itself, never by clients.
_INTERNAL_HEADERS = {"x-internal-token", "x-principal"}


def merge(base: dict, specs: dict[str, dict]) -> dict:
    doc = copy.deepcopy(base)
    paths = doc.setdefault("paths", {})
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for service, spec in sorted(specs.items()):
        for path, item in spec.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            item = copy.deepcopy(item)
            for op in item.values():
                if isinstance(op, dict):
                    op["parameters"] = [p for p in op.get("parameters", []) if p.get("name", "").lower() not in _INTERNAL_HEADERS]
                    op.setdefault("security", [BEARER])
                    op.setdefault("tags", [service])
                    op.setdefault("responses", {}).setdefault("401", {"description": "Missing or invalid token"})
            paths[path] = item
        schemas.update(spec.get("components", {}).get("schemas", {}))
    return doc
