"""Token pairs, refresh rotation with reuse detection, and revocation of logged-out tokens.

A refresh token works once: using it records its jti in `revoked_token` and returns a new pair.
A refresh token presented again was copied (a legitimate client holds only the newest one), so the
second use is refused and every token of that user is revoked (token_version bump): whoever has the
copy and the victim both have to log in again, and only the victim can.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from loguru import logger
from sqlmodel import Session, col, delete

from vcore_app import access
from vcore_app.auth.tokens import InvalidToken, TokenType, create_token, decode_token
from vcore_app.models import RevokedToken, User, pk, utcnow
from vcore_app.settings import Settings
from vcore_app.users import revoke_all_tokens


def issue_pair(*, settings: Settings, user: User) -> dict[str, str]:
    """What a login answers: a short-lived access token and a refresh token."""
    access, _ = create_token(settings=settings, kind="access", user_id=pk(user), token_version=user.token_version)
    refresh, _ = create_token(settings=settings, kind="refresh", user_id=pk(user), token_version=user.token_version)
    return {"access_token": access, "refresh_token": refresh, "token_type": "bearer"}


def revoke(*, session: Session, claims: dict[str, Any], kind: TokenType) -> None:
    """Record a token's jti until it would have expired anyway."""
    if session.get(RevokedToken, claims["jti"]) is None:
        expires = datetime.fromtimestamp(claims["exp"], UTC)
        session.add(RevokedToken(jti=claims["jti"], user_id=int(claims["sub"]), kind=kind, expires_at=expires))
    access.credentials_changed(session, user_id=int(claims["sub"]))  # the credential cache forgets it
    # Rows of expired tokens prove nothing any more; dropping them here keeps the table small.
    session.exec(delete(RevokedToken).where(col(RevokedToken.expires_at) < utcnow()))


def is_revoked(*, session: Session, jti: str) -> bool:
    return session.get(RevokedToken, jti) is not None


def valid_user(*, session: Session, claims: dict[str, Any]) -> User | None:
    """The token's user when it still exists, is active and the token's version is current."""
    user = session.get(User, int(claims["sub"]))
    if user is None or not user.is_active or user.token_version != claims["ver"]:
        return None
    return user


def rotate(*, session: Session, settings: Settings, refresh_token: str) -> dict[str, str] | None:
    """A new pair for a valid, unused refresh token; None otherwise (reuse also revokes everything).

    Returns instead of raising so the caller's transaction commits the revocation of a reuse.
    """
    try:
        claims = decode_token(refresh_token, settings=settings, kind="refresh")
    except InvalidToken:
        return None
    user = valid_user(session=session, claims=claims)
    if user is None:
        return None
    if is_revoked(session=session, jti=claims["jti"]):
        logger.warning("a used refresh token of user {} was presented again: all its tokens are revoked", user.id)
        revoke_all_tokens(session=session, user=user)
        return None
    revoke(session=session, claims=claims, kind="refresh")
    return issue_pair(settings=settings, user=user)
