"""JWT access and refresh tokens (PyJWT, HS256 pinned on decode, separate secrets per kind).

Claims: sub (user id as a string), exp, iat, type ("access" | "refresh"), ver (the user's
token_version), jti. A token of one type is never accepted as the other.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import jwt

from vcore_app.settings import Settings

TokenType = Literal["access", "refresh"]
ALGORITHM = "HS256"


class InvalidToken(Exception):
    pass


def _secret(settings: Settings, kind: TokenType) -> str:
    key = settings.JWT_ACCESS_SECRET_KEY if kind == "access" else settings.JWT_REFRESH_SECRET_KEY
    return key.get_secret_value()


def create_token(*, settings: Settings, kind: TokenType, user_id: int, token_version: int) -> tuple[str, dict[str, Any]]:
    minutes = settings.ACCESS_TOKEN_EXPIRE_MINUTES if kind == "access" else settings.REFRESH_TOKEN_EXPIRE_MINUTES
    now = datetime.now(timezone.utc)
    claims = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
        "type": kind,
        "ver": token_version,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, _secret(settings, kind), algorithm=ALGORITHM), claims


def decode_token(token: str, *, settings: Settings, kind: TokenType) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token, _secret(settings, kind), algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat", "type", "ver", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    if claims.get("type") != kind or not str(claims.get("sub", "")).isdigit():
        raise InvalidToken(f"not an {kind} token")
    return claims
