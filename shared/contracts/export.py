"""Generate the committed contract files from the ``TOPICS`` registry.

``schemas/<topic>.json`` is one JSON Schema (Draft 2020-12) per topic: the
baseline the compatibility test compares the models against. ``asyncapi.yaml``
is an AsyncAPI 3.0.0 document of the whole bus: servers, one channel per topic,
its message (payload schema and Kafka key) and which services send and receive
it. Both are generated, never edited by hand: ``meterstream contracts export``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from shared.contracts import TOPICS, Topic

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
KAFKA_BINDING_VERSION = "0.5.0"
# Version of the document as a whole; topics carry their own version in their names.
DOCUMENT_VERSION = "1.0.0"
SCHEMAS_DIR = "schemas"
ASYNCAPI_FILE = "asyncapi.yaml"


def schema_id(topic: Topic) -> str:
    return f"urn:meterstream:contracts:{topic.name}"


def json_schema(topic: Topic) -> dict[str, Any]:
    """The topic's payload schema: the model's JSON Schema, identified by the topic name."""
    schema = topic.model.model_json_schema()
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_id(topic),
        **schema,
        "title": f"{topic.name}: {schema['title']}",
        "description": schema.get("description", topic.description),
    }


def channel_id(topic: Topic) -> str:
    """``meter.register-reads.v1`` -> ``meterRegisterReadsV1`` (ids stay within [A-Za-z0-9])."""
    first, *rest = re.split(r"[^A-Za-z0-9]+", topic.name)
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 description of every topic, its key, schema, producers and consumers."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in TOPICS:
        cid, model = channel_id(topic), topic.model.__name__
        _add_payload_schemas(schemas, topic)
        messages[model] = _message(topic)
        channels[cid] = {
            "address": topic.name,
            "title": topic.name,
            "description": topic.description,
            "messages": {model: {"$ref": f"#/components/messages/{model}"}},
            "bindings": {"kafka": {
                "topic": topic.name,
                "partitions": topic.partitions,
                "bindingVersion": KAFKA_BINDING_VERSION,
            }},
        }
        for service in topic.producers:
            operations[f"{service}Send{_capital(cid)}"] = _operation(topic, service, "send")
        for service in topic.consumers:
            operations[f"{service}Receive{_capital(cid)}"] = _operation(topic, service, "receive")
    services = sorted({s for t in TOPICS for s in (*t.producers, *t.consumers)})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "meterstream events",
            "version": DOCUMENT_VERSION,
            "description": (
                "Events exchanged by the meterstream services over Kafka. Payloads are JSON; "
                "each topic name carries its version (a breaking change means a new `.vN` topic). "
                "Delivery is at-least-once: consumers are idempotent and ignore unknown fields. "
                "Generated from shared/contracts by `meterstream contracts export`; do not edit."
            ),
            "license": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
            "tags": [{"name": s, "description": f"The {s} service."} for s in services],
        },
        "defaultContentType": "application/json",
        "servers": {
            "embedded": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "title": "Embedded Tansu broker",
                "description": (
                    "The memory-only Tansu broker that `meterstream up` starts on localhost "
                    "(on a free port when 9092 is taken)."
                ),
            },
            "production": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "title": "Apache Kafka (KRaft)",
                "description": "The broker of docker-compose.yml; set KAFKA_BOOTSTRAP_SERVERS to use another.",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def export(out: Path) -> list[Path]:
    """Write ``schemas/<topic>.json`` and ``asyncapi.yaml`` under ``out``; returns the paths written."""
    (out / SCHEMAS_DIR).mkdir(parents=True, exist_ok=True)
    written = []
    for topic in TOPICS:
        path = out / SCHEMAS_DIR / f"{topic.name}.json"
        path.write_text(render_json(json_schema(topic)))
        written.append(path)
    path = out / ASYNCAPI_FILE
    path.write_text(render_yaml(asyncapi_document()))
    written.append(path)
    return written


def render_json(schema: dict[str, Any]) -> str:
    """Stable text: sorted keys, 2-space indent, trailing newline (clean diffs)."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=100)


class _NoAliasDumper(yaml.SafeDumper):
    """Repeated sub-documents are written out in full: anchors make the spec hard to read."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _message(topic: Topic) -> dict[str, Any]:
    model = topic.model.__name__
    return {
        "name": model,
        "title": model,
        "summary": topic.description,
        "contentType": "application/json",
        "payload": {"$ref": f"#/components/schemas/{model}"},
        "bindings": {"kafka": {
            "key": {
                "type": "string",
                "description": (
                    f"The event's `{topic.key_field}` field, UTF-8 encoded: every event with the same "
                    f"{topic.key_field} goes to the same partition, so they stay in order."
                ),
            },
            "bindingVersion": KAFKA_BINDING_VERSION,
        }},
    }


def _operation(topic: Topic, service: str, action: str) -> dict[str, Any]:
    cid, model = channel_id(topic), topic.model.__name__
    verb = "sends to" if action == "send" else "receives from"
    operation: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": f"#/channels/{cid}"},
        "title": f"{service} {verb} {topic.name}",
        "tags": [{"name": service}],
        "messages": [{"$ref": f"#/channels/{cid}/messages/{model}"}],
    }
    if action == "receive":
        group = f"meterstream-{service}"
        operation["description"] = f"Consumer group `{group}`: one group per service, offsets committed after the effect is durable."
        operation["bindings"] = {"kafka": {
            "groupId": {"type": "string", "enum": [group]},
            "bindingVersion": KAFKA_BINDING_VERSION,
        }}
    return operation


def _add_payload_schemas(schemas: dict[str, Any], topic: Topic) -> None:
    """Put the model's schema and its ``$defs`` into ``components/schemas`` with refs
    rewritten to match, so the document is self-contained."""
    schema = json_schema(topic)
    defs = schema.pop("$defs", {})
    for key in ("$schema", "$id"):  # an $id would re-base the rewritten refs
        schema.pop(key)
    for name, definition in {**defs, topic.model.__name__: schema}.items():
        definition = _rewrite_refs(definition)
        if schemas.setdefault(name, definition) != definition:
            raise ValueError(f"two different schemas are both called {name!r}; rename one model")


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: v.replace("#/$defs/", "#/components/schemas/") if k == "$ref" else _rewrite_refs(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def _capital(word: str) -> str:
    return word[:1].upper() + word[1:]
