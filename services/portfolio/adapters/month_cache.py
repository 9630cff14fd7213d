"""An in-process LRU of decoded month arrays, validated against the database on
every read, so the consumption read path fetches only the months that changed.

Correctness never depends on invalidation: each read first asks the covering
index for the current ``stamp`` of every month it needs (a few thousand small
rows) and fetches the arrays only for months that are missing here or whose
stamp differs. That keeps several portfolio processes behind a load balancer
correct, each with its own cache and its own share of the reads topic (one
process's sink cannot evict another's cache); each also holds its own copy of
the hot months, which is what the byte budget bounds.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, Engine, select

from services.portfolio.adapters import tables as t
from services.portfolio.domain.consumption import Block

DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024  # ~4,000 site-years of complete HH months
_IN_CHUNK = 500  # keeps IN lists well inside every driver's parameter limit

Key = tuple[str, date]


class MonthCache:
    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self._budget = budget_bytes
        self._entries: OrderedDict[Key, tuple[int, Block]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # routes run in a thread pool

    def blocks(self, conn: Connection, mpxns: Sequence[str], first: date, last: date) -> dict[Key, Block]:
        """The stored months of ``mpxns`` from ``first`` to ``last`` (first days of months), current as of ``conn``."""
        mm = t.meter_months.c
        stamps: dict[Key, int] = {}
        for i in range(0, len(mpxns), _IN_CHUNK):
            rows = conn.execute(select(mm.mpxn, mm.month, mm.stamp)
                                .where(mm.mpxn.in_(mpxns[i:i + _IN_CHUNK]), mm.month.between(first, last)))
            stamps.update({(m, mo): s for m, mo, s in rows.tuples()})
        found: dict[Key, Block] = {}
        with self._lock:
            for key, stamp in stamps.items():
                entry = self._entries.get(key)
                if entry is not None and entry[0] == stamp:
                    self._entries.move_to_end(key)
                    found[key] = entry[1]
        stale = sorted({m for m, mo in stamps if (m, mo) not in found})
        for i in range(0, len(stale), _IN_CHUNK):
            rows = conn.execute(select(mm.mpxn, mm.month, mm.stamp, mm.kwh, mm.quality)
                                .where(mm.mpxn.in_(stale[i:i + _IN_CHUNK]), mm.month.between(first, last)))
            fetched = {(m, mo): (s, Block.decode(mo, bytes(b), q)) for m, mo, s, b, q in rows.tuples()}
            found.update({k: b for k, (_, b) in fetched.items()})
            self._store(fetched)
        return found

    def _store(self, entries: dict[Key, tuple[int, Block]]) -> None:
        with self._lock:
            for key, entry in entries.items():
                old = self._entries.pop(key, None)
                if old is not None:
                    self._bytes -= old[1].nbytes
                if entry[1].nbytes > self._budget:
                    continue
                self._entries[key] = entry
                self._bytes += entry[1].nbytes
            while self._bytes > self._budget:
                _, (_, block) = self._entries.popitem(last=False)
                self._bytes -= block.nbytes


_caches: weakref.WeakKeyDictionary[Engine, MonthCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def for_engine(engine: Engine) -> MonthCache:
    """One cache per database (tests and benches run several services in one process)."""
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = MonthCache()
        return cache
