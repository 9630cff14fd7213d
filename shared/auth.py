"""Who is calling: the principal the gateway authenticated, passed to services.

The gateway verifies the user's JWT and forwards the principal in the
``X-Principal`` header together with the shared ``X-Internal-Token``; services
trust the principal only when the token matches, and do their own object-level
authorisation with it.
"""
from __future__ import annotations

import hmac
from typing import Literal

from fastapi import Depends, Header, HTTPException, Request, status
from pydantic import BaseModel, ValidationError

Role = Literal["customer", "broker", "operations"]


class Principal(BaseModel):
    user_id: str
    email: str
    role: Role
    name: str = ""


def require_internal(request: Request, x_internal_token: str | None = Header(None)) -> None:
    expected: str = request.app.state.settings.internal_key
    if not x_internal_token or not hmac.compare_digest(x_internal_token, expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "internal endpoint: missing or wrong X-Internal-Token")


def current_principal(
    _: None = Depends(require_internal), x_principal: str | None = Header(None)
) -> Principal:
    if not x_principal:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated")
    try:
        return Principal.model_validate_json(x_principal)
    except ValidationError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "malformed principal") from exc


def require_role(*roles: Role):
    def check(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"needs role {' or '.join(roles)}")
        return principal

    return check
