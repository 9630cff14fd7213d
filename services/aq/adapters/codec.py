"""JSON encoding of the calendar state kept per meter point (``aq_meter_points.state``)."""
from __future__ import annotations

import dataclasses
import json
from datetime import date
from enum import Enum
from typing import Any, Optional

from services.aq.domain.calculation import FailureReason
from services.aq.domain.calendar import Confirmation, PendingAq, PendingFailure, Read, SupplyMeterPoint
from services.aq.domain.hh import HhChain

#: Date fields; read with ``.get`` because states stored before a field was added lack its key.
_DATES = ("registered_on", "reconnected_on", "backstop_date", "confirmed_on", "consumption_gap")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def _day(text: Optional[str]) -> Optional[date]:
    return date.fromisoformat(text) if text else None


def _pending_aq(d: Optional[dict]) -> Optional[PendingAq]:
    if d is None:
        return None
    return PendingAq(d["aq_kwh"], date.fromisoformat(d["effective_from"]), _day(d["read_start"]), _day(d["read_end"]))


def encode_point(point: SupplyMeterPoint) -> str:
    return json.dumps(_plain(point), separators=(",", ":"))


def decode_point(text: str) -> SupplyMeterPoint:
    d = json.loads(text)
    failure = d["pending_failure"]
    return SupplyMeterPoint(
        **{k: v for k, v in d.items() if k not in (
            "confirmation", *_DATES, "reads", "pending_aq", "pending_failure", "pending_correction", "winter_failure")},
        confirmation=Confirmation(d["confirmation"]),
        **{k: _day(d.get(k)) for k in _DATES},
        reads=tuple(Read(date.fromisoformat(r["read_date"]), r["index"], r["unit"]) for r in d["reads"]),
        pending_aq=_pending_aq(d["pending_aq"]),
        pending_failure=None if failure is None else PendingFailure(
            FailureReason(failure["reason"]), failure["previous_aq_kwh"], _day(failure["read_start"]),
            _day(failure["read_end"])),
        pending_correction=_pending_aq(d["pending_correction"]),
        winter_failure=FailureReason(d["winter_failure"]) if d["winter_failure"] else None,
    )


def encode_chain(chain: HhChain) -> str:
    return json.dumps(_plain(chain))


def decode_chain(text: Optional[str]) -> HhChain:
    if not text:
        return HhChain()
    d = json.loads(text)
    return HhChain(_day(d["anchor"]), _day(d["through"]), d["index_kwh"])
