"""Which service answers which public path. The gateway's own routing table:
services expose the same /api/v1 paths internally, the gateway forwards."""
from __future__ import annotations

ROUTES: tuple[tuple[str, str], ...] = (
    ("/api/v1/ingest", "ingest"),
    ("/api/v1/me", "portfolio"),
    ("/api/v1/sites", "portfolio"),
    ("/api/v1/portfolios", "portfolio"),
    ("/api/v1/accounts", "portfolio"),
    ("/api/v1/contacts", "portfolio"),
    ("/api/v1/customers", "portfolio"),
    ("/api/v1/admin", "portfolio"),
    ("/api/v1/exports", "portfolio"),
    ("/api/v1/trackers", "alerts"),
    ("/api/v1/thresholds", "alerts"),
    ("/api/v1/notifications", "alerts"),
    ("/api/v1/high-bill", "alerts"),
    ("/api/v1/meter-points", "aq"),
    ("/api/v1/aq", "aq"),
)

# Reached without a token: the link in a notification email must work from a
# logged-out browser (the signed token in the query string is the credential).
PUBLIC_PATHS: frozenset[str] = frozenset({"/api/v1/notifications/unsubscribe"})

UPSTREAMS: tuple[str, ...] = ("portfolio", "ingest", "alerts", "aq")


def service_for(path: str) -> str | None:
    for prefix, service in ROUTES:
        if path == prefix or path.startswith(prefix + "/"):
            return service
    return None
