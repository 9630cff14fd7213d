"""Event contracts: committed schemas match the models, changes stay compatible,
the AsyncAPI document covers the bus, and real events validate against the schemas."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Literal, Optional

import jsonschema
import pytest
import yaml
from pydantic import BaseModel, Field

from shared.contracts import BY_NAME, TOPICS, Topic
from shared.contracts.compat import breaking_changes
from shared.contracts.events import (
    AccountChanged,
    AccountUser,
    AqNotification,
    AqResult,
    MeterDayRead,
    Notification,
    PortfolioGroupChanged,
    RegisterRead,
    RejectedRow,
    SupplyPointChanged,
)
from shared.contracts.export import ASYNCAPI_FILE, SCHEMAS_DIR, channel_id, export, json_schema
from shared.hh import periods_in_day

CONTRACTS = Path(__file__).resolve().parents[3] / "shared" / "contracts"
TOPIC_IDS = [t.name for t in TOPICS]
HOW_TO_FIX = (
    "If this change is intended, either make it compatible (new fields optional with a default; "
    "never remove, rename or retype a field; never remove an enum value) and run "
    "`meterstream contracts export`, or publish the new shape on a new topic version "
    "(e.g. `.v2`) next to the old one and migrate producers and consumers."
)


def committed_schema(topic: Topic) -> dict:
    path = CONTRACTS / SCHEMAS_DIR / f"{topic.name}.json"
    assert path.exists(), f"{path} is missing: run `meterstream contracts export` and commit it"
    return json.loads(path.read_text())


# (a) models stay compatible with the committed schemas ----------------------------------------

@pytest.mark.parametrize("topic", TOPICS, ids=TOPIC_IDS)
def test_model_is_compatible_with_committed_schema(topic: Topic) -> None:
    problems = breaking_changes(committed_schema(topic), json_schema(topic))
    assert problems == [], f"{topic.model.__name__} breaks topic {topic.name}: {problems}. {HOW_TO_FIX}"


# (b) committed files never drift from a fresh export --------------------------------------------

def test_committed_files_equal_a_fresh_export(tmp_path: Path) -> None:
    written = export(tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in written} == {
        *(f"{SCHEMAS_DIR}/{t.name}.json" for t in TOPICS), ASYNCAPI_FILE,
    }
    for fresh in written:
        committed = CONTRACTS / fresh.relative_to(tmp_path)
        assert committed.exists() and committed.read_text() == fresh.read_text(), (
            f"{committed} differs from the models: run `meterstream contracts export` and commit the result"
        )


def test_no_schema_file_for_a_topic_outside_the_registry() -> None:
    stale = {p.stem for p in (CONTRACTS / SCHEMAS_DIR).glob("*.json")} - set(BY_NAME)
    assert not stale, f"schema files without a topic in shared/contracts TOPICS: {sorted(stale)}; delete them"


def test_schema_names_its_topic() -> None:
    for topic in TOPICS:
        schema = json_schema(topic)
        assert topic.name in schema["$id"] and topic.name in schema["title"]


# (c) breaking_changes on synthetic before/after models ------------------------------------------

class Base(BaseModel):
    id: str
    kind: Literal["a", "b"]
    size: int = Field(ge=0)
    note: Optional[str] = None
    values: list[float] = []


class AddOptional(Base):
    extra: Optional[str] = None


class AddRequired(Base):
    extra: str


class Removed(BaseModel):
    id: str
    kind: Literal["a", "b"]
    size: int = Field(ge=0)
    values: list[float] = []


class Retyped(BaseModel):
    id: int
    kind: Literal["a", "b"]
    size: int = Field(ge=0)
    note: Optional[str] = None
    values: list[float] = []


class EnumWidened(Base):
    kind: Literal["a", "b", "c"]


class EnumNarrowed(Base):
    kind: Literal["a"]


class MadeNullable(Base):
    id: Optional[str]


class MadeNonNull(Base):
    note: str = ""


class IntWidened(Base):
    size: float = Field(ge=0)


class NumberNarrowed(Base):
    size: int = Field(ge=1)


class ItemsRetyped(Base):
    values: list[str] = []


class NoteRequired(Base):
    note: Optional[str]


class DocsOnly(Base):
    """New docstring."""

    id: str = Field(description="Now documented.", title="Identifier")


class Child(BaseModel):
    code: str
    level: Literal["low", "high"] = "low"


class Parent(BaseModel):
    child: Child
    maybe: Optional[Child] = None


class ChildNarrowed(BaseModel):
    code: str
    level: Literal["low"] = "low"


class ParentNarrowed(BaseModel):
    child: ChildNarrowed
    maybe: Optional[ChildNarrowed] = None


class ChildGrown(BaseModel):
    code: str
    level: Literal["low", "high", "max"] = "low"
    since: Optional[date] = None


class ParentGrown(BaseModel):
    child: ChildGrown
    maybe: Optional[ChildGrown] = None


class Node(BaseModel):
    name: str
    children: list["Node"] = []


class NodeGrown(BaseModel):
    name: str
    children: list["NodeGrown"] = []
    weight: Optional[float] = None


class NodeBroken(BaseModel):
    name: int
    children: list["NodeBroken"] = []


class Dated(BaseModel):
    day: date
    code: str = Field(max_length=10)
    counts: dict[str, int] = {}


class DatedAsDatetime(Dated):
    day: datetime


class DatedShorterCode(Dated):
    code: str = Field(max_length=8)


class DatedCountsAsText(Dated):
    counts: dict[str, str] = {}


class DatedLongerCode(Dated):
    code: str = Field(max_length=20)


COMPAT_CASES = [
    # (after, expected problem fragment or None when compatible)
    pytest.param(Base, None, id="unchanged"),
    pytest.param(AddOptional, None, id="new optional field"),
    pytest.param(EnumWidened, None, id="enum widened"),
    pytest.param(MadeNullable, None, id="made nullable"),
    pytest.param(IntWidened, None, id="integer widened to number"),
    pytest.param(DocsOnly, None, id="documentation only"),
    pytest.param(AddRequired, "extra: new required field", id="new required field"),
    pytest.param(Removed, "note: field removed", id="field removed"),
    pytest.param(Retyped, "id: type changed from string to integer", id="field retyped"),
    pytest.param(EnumNarrowed, "kind: enum values removed ['b']", id="enum narrowed"),
    pytest.param(MadeNonNull, "note: no longer nullable", id="made non-null"),
    pytest.param(NumberNarrowed, "size: minimum tightened from 0 to 1", id="bound tightened"),
    pytest.param(ItemsRetyped, "values[]: type changed from number to string", id="list items retyped"),
    pytest.param(NoteRequired, "note: field became required", id="optional became required"),
]


@pytest.mark.parametrize(("after", "expected"), COMPAT_CASES)
def test_breaking_changes_against_base(after: type[BaseModel], expected: str | None) -> None:
    problems = breaking_changes(Base.model_json_schema(), after.model_json_schema())
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [  # nested and recursive models ($defs/$ref), formats, bounds, dict values
        pytest.param(Parent, ParentGrown, None, id="nested model widened via $defs"),
        pytest.param(Parent, ParentNarrowed, "child.level: enum values removed", id="nested enum narrowed"),
        pytest.param(Parent, ParentNarrowed, "maybe.level: enum values removed", id="nullable nested narrowed"),
        pytest.param(Node, NodeGrown, None, id="recursive model widened"),
        pytest.param(Node, NodeBroken, "name: type changed", id="recursive model retyped"),
        pytest.param(EnumNarrowed, Base, None, id="enum widened back"),
        pytest.param(Dated, DatedAsDatetime, "day: format changed from 'date' to 'date-time'", id="format changed"),
        pytest.param(Dated, DatedShorterCode, "code: maxLength tightened from 10 to 8", id="max length tightened"),
        pytest.param(Dated, DatedLongerCode, None, id="max length loosened"),
        pytest.param(Dated, DatedCountsAsText, "counts{*}: type changed from integer to string", id="dict values retyped"),
        pytest.param(AddRequired, Base, "extra: field removed", id="required field removed"),
    ],
)
def test_breaking_changes_between_models(before: type[BaseModel], after: type[BaseModel], expected: str | None) -> None:
    problems = breaking_changes(before.model_json_schema(), after.model_json_schema())
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_type_change_reported_once_per_field() -> None:
    problems = breaking_changes(Base.model_json_schema(), Retyped.model_json_schema())
    assert problems == ["id: type changed from string to integer"]


# (d) the AsyncAPI document -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def asyncapi() -> dict:
    return yaml.safe_load((CONTRACTS / ASYNCAPI_FILE).read_text())


def test_asyncapi_has_the_required_v3_structure(asyncapi: dict) -> None:
    assert asyncapi["asyncapi"] == "3.0.0"
    assert {"title", "version"} <= set(asyncapi["info"])
    for name, server in asyncapi["servers"].items():
        assert {"host", "protocol"} <= set(server), name
        assert server["protocol"] == "kafka"
    assert {"embedded", "production"} <= set(asyncapi["servers"])
    for op_id, op in asyncapi["operations"].items():
        assert op["action"] in {"send", "receive"}, op_id
        assert resolve(asyncapi, op["channel"]["$ref"]) is not None
        for message in op["messages"]:
            assert message["$ref"].startswith(op["channel"]["$ref"] + "/messages/")
            assert resolve(asyncapi, message["$ref"]) is not None


def test_every_ref_in_asyncapi_resolves(asyncapi: dict) -> None:
    for ref in refs(asyncapi):
        assert resolve(asyncapi, ref) is not None, ref


def test_asyncapi_lists_every_topic_with_key_producers_and_consumers(asyncapi: dict) -> None:
    channels = asyncapi["channels"]
    assert {c["address"] for c in channels.values()} == set(BY_NAME)
    for topic in TOPICS:
        cid = channel_id(topic)
        channel = channels[cid]
        assert channel["bindings"]["kafka"]["partitions"] == topic.partitions
        (message_ref,) = channel["messages"].values()
        message = resolve(asyncapi, message_ref["$ref"])
        key = message["bindings"]["kafka"]["key"]
        assert key["type"] == "string" and f"`{topic.key_field}`" in key["description"]
        payload = resolve(asyncapi, message["payload"]["$ref"])
        assert set(payload["properties"]) == set(topic.model.model_fields)
        ops = [op for op in asyncapi["operations"].values() if op["channel"]["$ref"] == f"#/channels/{cid}"]
        senders = {op["tags"][0]["name"] for op in ops if op["action"] == "send"}
        receivers = {op["tags"][0]["name"] for op in ops if op["action"] == "receive"}
        assert senders == set(topic.producers), topic.name
        assert receivers == set(topic.consumers), topic.name
        for op in ops:
            assert op["tags"][0]["name"] in op["title"]


def test_channel_ids_are_plain_identifiers() -> None:
    assert channel_id(BY_NAME["meter.register-reads.v1"]) == "meterRegisterReadsV1"
    assert all(channel_id(t).isalnum() for t in TOPICS)


@pytest.mark.parametrize("topic", TOPICS, ids=TOPIC_IDS)
def test_committed_schemas_are_valid_draft_2020_12(topic: Topic) -> None:
    jsonschema.Draft202012Validator.check_schema(committed_schema(topic))


def resolve(document: dict, ref: str) -> object:
    node: object = document
    for part in ref.removeprefix("#/").split("/"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


# (e) round trip: real events validate against the committed schemas ------------------------------

NOW = datetime(2025, 3, 30, 9, 15, tzinfo=timezone.utc)
CLOCK_CHANGE = date(2025, 3, 30)  # 46 periods


def meter_day(day: date) -> MeterDayRead:
    n = periods_in_day(day)
    return MeterDayRead(
        event_id=f"1234567890123:{day}:1", mpxn="1234567890123", fuel="electricity", settlement_date=day,
        version=1, content_hash="abc", kwh=[0.5] * (n - 1) + [None], quality="A" * (n - 1) + "-",
        flags=["estimated"], batch_id="b1", received_at=NOW,
    )


EXAMPLES: dict[str, list[BaseModel]] = {
    "meter.reads.v1": [meter_day(CLOCK_CHANGE), meter_day(date(2025, 1, 15))],
    "meter.reads.rejected.v1": [
        RejectedRow(batch_id="b1", reason_code="negative_value", reason="period 3 is negative", rejected_at=NOW),
        RejectedRow(batch_id="b1", row_number=7, mpxn="1234567", settlement_date=CLOCK_CHANGE,
                    reason_code="period_count", reason="46 expected", rejected_at=NOW),
    ],
    "meter.register-reads.v1": [
        RegisterRead(event_id="e1", mpxn="1234567", read_date=CLOCK_CHANGE, register_value=10432.5,
                     read_type="customer", batch_id="b1", received_at=NOW),
    ],
    "portfolio.supply-points.v1": [
        SupplyPointChanged(mpxn="1234567", revision=1, fuel="gas", site_id="s1", site_name="Depot",
                           account_id="a1", customer_id="c1", meter_type="amr", ldz="EA",
                           opt_out_window_ends=CLOCK_CHANGE),
    ],
    "portfolio.accounts.v1": [
        AccountChanged(account_id="a1", revision=3, customer_id="c1", customer_name="Acme", account_name="Depots",
                       bill_cycle_day=15, unit_rate_per_kwh=0.245,
                       users=[AccountUser(user_id="u1", email="ops@example.com", role="broker")]),
    ],
    "portfolio.groups.v1": [
        PortfolioGroupChanged(group_id="g1", revision=1, owner_user_id="u1", name="North", mpxns=["1234567"]),
        PortfolioGroupChanged(group_id="g1", revision=2, owner_user_id="u1", name="North", deleted=True),
    ],
    "alerts.notifications.v1": [
        Notification(notification_id="n1", kind="tracker_exceeded", recipient="u1", subject="s", body="b",
                     created_at=NOW),
    ],
    "aq.results.v1": [
        AqResult(event_id="e1", mprn="1234567", status="calculated", aq_kwh=73200.0, euc="EA:E2201",
                 calculated_on=CLOCK_CHANGE),
        AqResult(event_id="e2", mprn="1234567", status="failed", reason_code="tolerance", calculated_on=CLOCK_CHANGE),
    ],
    "aq.notifications.v1": [
        AqNotification(event_id="1234567:T04:2025-03-27", mprn="1234567", record_type="T04", issued_on=date(2025, 3, 27),
                       effective_from=date(2025, 4, 1), confirmation="CO", meter_class=3, aq_kwh=80000.0,
                       soq_kwh=670.0, euc="02B", formula_year_aq_kwh=78000.0),
        AqNotification(event_id="1234567:T51:2025-05-27", mprn="1234567", record_type="T51",
                       issued_on=date(2025, 5, 27), reason_code="missing_read"),
    ],
}


def test_every_topic_has_examples() -> None:
    assert set(EXAMPLES) == set(BY_NAME)


@pytest.mark.parametrize("topic", TOPICS, ids=TOPIC_IDS)
def test_events_round_trip_through_their_committed_schema(topic: Topic) -> None:
    validator = jsonschema.Draft202012Validator(
        committed_schema(topic), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for event in EXAMPLES[topic.name]:
        assert isinstance(event, topic.model)
        wire = json.loads(event.model_dump_json())
        validator.validate(wire)
        assert topic.model.model_validate(wire) == event
        assert topic.key_of(event) == str(wire[topic.key_field]).encode()


def test_schema_rejects_an_event_missing_its_key() -> None:
    topic = BY_NAME["meter.reads.v1"]
    wire = json.loads(EXAMPLES[topic.name][0].model_dump_json())
    del wire[topic.key_field]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wire, committed_schema(topic), cls=jsonschema.Draft202012Validator)
