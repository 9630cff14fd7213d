"""Fast, non-durable key-value duties (rate limits, de-duplication hints):
Redis when REDIS_URL is set, an in-process stand-in otherwise.

Nothing here is a system of record; durable idempotency lives in the database.
"""
from __future__ import annotations

import asyncio
import time
from typing import Protocol

import redis.asyncio as redis


class KeyValue(Protocol):
    async def hit(self, key: str, window_seconds: int) -> int:
        """Count one hit in a fixed window; returns the count so far."""

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        """True for the first caller to claim the key within the ttl."""

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryKeyValue:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[int, float]] = {}
        self._lock = asyncio.Lock()

    def _live(self, key: str) -> int | None:
        entry = self._entries.get(key)
        if entry is None or entry[1] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[0]

    async def hit(self, key: str, window_seconds: int) -> int:
        async with self._lock:
            count = (self._live(key) or 0) + 1
            expires = self._entries[key][1] if count > 1 else time.monotonic() + window_seconds
            self._entries[key] = (count, expires)
            return count

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        async with self._lock:
            if self._live(key) is not None:
                return False
            self._entries[key] = (1, time.monotonic() + ttl_seconds)
            return True

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._entries.clear()


class RedisKeyValue:
    def __init__(self, url: str, namespace: str = "meterstream") -> None:
        self._redis = redis.from_url(url)
        self._ns = namespace

    async def hit(self, key: str, window_seconds: int) -> int:
        k = f"{self._ns}:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            count, _ = await pipe.incr(k).expire(k, window_seconds, nx=True).execute()
        return int(count)

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        return bool(await self._redis.set(f"{self._ns}:{key}", 1, nx=True, ex=ttl_seconds))

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


def key_value(redis_url: str | None, namespace: str = "meterstream") -> KeyValue:
    return RedisKeyValue(redis_url, namespace) if redis_url else MemoryKeyValue()
