"""JWT tokens (PyJWT, HS256 pinned on decode, a separate key per kind).

Kinds: "access" and "refresh" (the API), "session" (the browser cookie), "reset" (a password-reset
link). Claims: sub (user id as a string), exp, iat, type, ver (the user's token_version), jti.
A token of one kind is never accepted as another: the key differs and `type` is checked.

Because `ver` must equal the user's current token_version, a reset token is single-use: the reset
bumps the version. Session and reset keys are derived from the access key (HMAC with the kind as
label), so no new secret has to be generated or configured.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt

from vcore_app.settings import Settings

TokenType = Literal["access", "refresh", "session", "reset"]
ALGORITHM = "HS256"


class InvalidToken(Exception):
    pass


def signing_key(settings: Settings, kind: TokenType) -> str:
    if kind == "refresh":
        return settings.JWT_REFRESH_SECRET_KEY.get_secret_value()
    access = settings.JWT_ACCESS_SECRET_KEY.get_secret_value()
    if kind == "access":
        return access
    return hmac.new(access.encode(), f"vcore-{kind}-token".encode(), hashlib.sha256).hexdigest()


def lifetime(settings: Settings, kind: TokenType) -> timedelta:
    minutes = {
        "access": settings.ACCESS_TOKEN_EXPIRE_MINUTES,
        "refresh": settings.REFRESH_TOKEN_EXPIRE_MINUTES,
        "session": settings.SESSION_EXPIRE_MINUTES,
        "reset": settings.EMAIL_RESET_TOKEN_EXPIRE_HOURS * 60,
    }[kind]
    return timedelta(minutes=minutes)


def create_token(
    *, settings: Settings, kind: TokenType, user_id: int, token_version: int
) -> tuple[str, dict[str, Any]]:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + lifetime(settings, kind),
        "type": kind,
        "ver": token_version,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, signing_key(settings, kind), algorithm=ALGORITHM), claims


def decode_token(token: str, *, settings: Settings, kind: TokenType) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token,
            signing_key(settings, kind),
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat", "type", "ver", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    if claims.get("type") != kind or not str(claims.get("sub", "")).isdigit():
        raise InvalidToken(f"not an {kind} token")
    return claims
