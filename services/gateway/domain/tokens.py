"""JWT access tokens (HS256) carrying the principal."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt

from shared.auth import Principal

ALGORITHM = "HS256"


def issue(principal: Principal, key: str, ttl: timedelta, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    claims = {
        "sub": principal.user_id, "email": principal.email, "role": principal.role, "name": principal.name,
        "iat": now, "exp": now + ttl, "iss": "meterstream",
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify(token: str, key: str) -> Principal:
    """Raises jwt.InvalidTokenError (expired, wrong signature, malformed)."""
    claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer="meterstream", options={"require": ["exp", "sub"]})
    return Principal(user_id=claims["sub"], email=claims["email"], role=claims["role"], name=claims.get("name", ""))
