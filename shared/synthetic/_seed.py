"""Stable seeds: Python's ``hash()`` is salted per process, so derive seeds from SHA-256."""
from __future__ import annotations

import hashlib
from functools import lru_cache


@lru_cache(maxsize=65536)
def stable_seed(*parts: object) -> int:
    """A 64-bit integer that depends only on the text of ``parts``."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
