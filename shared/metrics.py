"""Prometheus metrics shared by every service (exposed on each /metrics)."""
from prometheus_client import Counter, Histogram

EVENTS_PRODUCED = Counter("meterstream_events_produced_total", "Events acknowledged by the broker", ["service", "topic"])
EVENTS_CONSUMED = Counter("meterstream_events_consumed_total", "Events handled and committed", ["service", "topic"])
EVENTS_INVALID = Counter("meterstream_events_invalid_total", "Undecodable events skipped", ["service", "topic"])
HTTP_REQUESTS = Histogram(
    "meterstream_http_request_seconds", "HTTP request latency", ["service", "method", "route", "status"]
)
