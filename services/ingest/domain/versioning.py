"""Meter-day versions: identical re-sends change nothing, revisions supersede by source time.

Every distinct content of a meter-day is stored once as a version; the *current*
one is the version with the newest source timestamp (ties go to the later
arrival, i.e. the higher version). A revision that arrives after a newer one is
stored for audit ("superseded on arrival") but never becomes current and is not
published, so the event contract's "highest published version wins" holds.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Sequence

import numpy as np

ExistingVersion = tuple[int, str, datetime]  # (version, content_hash, source_timestamp)


def content_hash(values: Sequence[float | None], quality: str) -> str:
    """sha256 hex over a canonical encoding; values are rounded to 1e-9 kWh so unit
    conversion noise does not make an identical re-send look different. A missing
    value is NaN (distinct from every number, including 0.0)."""
    return content_hashes(np.array([values], dtype="<f8"), [quality])[0]  # numpy reads None as NaN


def content_hashes(values: np.ndarray, qualities: Sequence[str]) -> list[str]:
    """:func:`content_hash` of many meter-days of one length at once, given as the
    rows of a little-endian float64 matrix (NaN = missing)."""
    rounded = np.round(values, 9) + 0.0  # + 0.0 folds -0.0
    return [hashlib.sha256(row.tobytes() + b"|" + quality.encode("ascii", "replace")).hexdigest()
            for row, quality in zip(rounded, qualities)]


@dataclass(frozen=True)
class Decision:
    kind: Literal["unchanged", "new_version", "superseded_on_arrival"]
    version: int | None = None

    @property
    def becomes_current(self) -> bool:
        return self.kind == "new_version"


_FIRST = Decision("new_version", 1)


def decide_version(existing: Sequence[ExistingVersion], new_hash: str,
                   new_source_timestamp: datetime) -> Decision:
    """What to do with a newly parsed meter-day given the versions already stored."""
    if not existing:
        return _FIRST
    if any(h == new_hash and ts == new_source_timestamp for _, h, ts in existing):
        return Decision("unchanged")  # an exact re-send of a stored version
    current = max(existing, key=lambda v: (v[2], v[0]))
    if new_hash == current[1]:
        return Decision("unchanged")
    next_version = max(v[0] for v in existing) + 1
    if new_source_timestamp >= current[2]:
        return Decision("new_version", next_version)
    if any(h == new_hash for _, h, _ in existing):
        return Decision("unchanged")  # an old revision we already keep for audit
    return Decision("superseded_on_arrival", next_version)
