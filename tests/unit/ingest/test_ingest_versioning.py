"""Content hashes and version decisions: re-sends, revisions, out-of-order arrival."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.ingest.domain.versioning import Decision, content_hash, decide_version

T1, T2, T3 = (datetime(2019, 11, 14, h, tzinfo=timezone.utc) for h in (1, 2, 3))
A = content_hash([0.5] * 48, "A" * 48)
B = content_hash([0.6] + [0.5] * 47, "A" * 48)
C = content_hash([0.7] + [0.5] * 47, "A" * 48)


def test_content_hash_is_stable_and_sensitive():
    assert A == content_hash([0.5] * 48, "A" * 48) and len(A) == 64
    assert content_hash([0.1 + 0.2], "A") == content_hash([0.3], "A")  # float noise folded
    assert content_hash([0.0], "A") == content_hash([-0.0], "A")
    assert content_hash([None], "-") != content_hash([0.0], "-")
    assert content_hash([1.0], "A") != content_hash([1.0], "E")
    assert content_hash([1.0, None], "A-") != content_hash([None, 1.0], "-A")


@pytest.mark.parametrize(("existing", "new_hash", "ts", "expected"), [
    ([], A, T1, Decision("new_version", 1)),
    ([(1, A, T1)], A, T1, Decision("unchanged")),                          # identical re-send
    ([(1, A, T1)], A, T2, Decision("unchanged")),                          # same content, newer file
    ([(1, A, T1)], B, T2, Decision("new_version", 2)),                     # revision
    ([(1, A, T1)], B, T1, Decision("new_version", 2)),                     # tie: later arrival wins
    ([(1, B, T2)], A, T1, Decision("superseded_on_arrival", 2)),           # older revision arrives late
    ([(1, B, T2), (2, A, T1)], A, T1, Decision("unchanged")),              # ... and again
    ([(1, A, T1), (2, B, T2)], A, T1, Decision("unchanged")),              # re-send of an old version
    ([(1, A, T1), (2, B, T2)], A, T3, Decision("new_version", 3)),         # genuine revert, newer source
    ([(1, A, T1), (2, C, T3), (3, B, T2)], B, T2, Decision("unchanged")),
    ([(1, A, T1), (2, C, T3), (3, B, T2)], A, T2, Decision("unchanged")),  # content kept for audit already
])
def test_decide_version(existing, new_hash, ts, expected):
    decision = decide_version(existing, new_hash, ts)
    assert decision == expected
    assert decision.becomes_current == (expected.kind == "new_version")


def test_newest_source_wins_whatever_the_arrival_order():
    revisions = [(A, T1), (B, T2), (C, T3)]
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]):
        stored: list[tuple[int, str, datetime]] = []
        current = None
        for index in order:
            content, ts = revisions[index]
            decision = decide_version(stored, content, ts)
            if decision.version is not None:
                stored.append((decision.version, content, ts))
            if decision.becomes_current:
                current = content
        assert current == C and len(stored) == 3
