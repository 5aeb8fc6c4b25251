"""API keys: long-lived credentials for scripts, acting as their owner.

A key is `vc_` + 32 random bytes (base64url), shown once at creation. Only its SHA-256 is stored.
A fast hash is right here, unlike for passwords: a password needs a slow hash because people pick
guessable ones, while 256 random bits cannot be guessed however fast the hash is, and a fast hash
lets every request find its key by an indexed lookup instead of trying argon2 against each row.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from vcore_app import access, audit
from vcore_app.errors import AppError, invalid
from vcore_app.models import ApiKey, User, pk, utcnow

PREFIX = "vc_"
_SHOWN_CHARS = 8
# last_used_at is a write; once a minute is precise enough and keeps busy scripts from writing on every call.
_LAST_USED_GRANULARITY = timedelta(minutes=1)


def looks_like_key(value: str) -> bool:
    return value.startswith(PREFIX)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    *, session: Session, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """The stored row and the key itself, which is never stored nor shown again."""
    if expires_at is not None and expires_at <= utcnow():
        raise invalid("expires_at", "must be in the future")
    key = PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        user_id=pk(user),
        name=name,
        prefix=key[: len(PREFIX) + _SHOWN_CHARS],
        key_hash=_digest(key),
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        action="api_key.create",  # audit (issue 17); the prefix only, never the key
        target=f"api key {row.id} '{name}' ({row.prefix}...) of {user.username}",
    )
    return row, key


def list_api_keys(*, session: Session, user: User) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).where(ApiKey.user_id == user.id).order_by(col(ApiKey.id))).all())


def delete_api_key(*, session: Session, user: User, key_id: int) -> None:
    row = session.get(ApiKey, key_id)
    if row is None or row.user_id != user.id:  # someone else's key does not exist, as far as this user knows
        raise AppError("API key not found", 404)
    session.delete(row)
    access.credentials_changed(session, user_id=user.id)  # the credential cache forgets the key
    audit.record(
        session,
        action="api_key.revoke",  # audit (issue 17)
        target=f"api key {row.id} '{row.name}' of {user.username}",
    )


def find_key(*, session: Session, key: str) -> tuple[ApiKey, User] | None:
    """The key's row and its active owner, when the key exists and has not expired. Reads only."""
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == _digest(key))).first()
    if row is None or (row.expires_at is not None and row.expires_at <= utcnow()):
        return None
    user = session.get(User, row.user_id)
    return (row, user) if user is not None and user.is_active else None


def needs_touch(row: ApiKey) -> bool:
    return row.last_used_at is None or utcnow() - row.last_used_at >= _LAST_USED_GRANULARITY


def touch(*, session: Session, key_id: int) -> None:
    session.exec(update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=utcnow()))
