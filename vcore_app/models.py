"""Database tables. Split per domain when this passes ~600 lines."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Boot(SQLModel, table=True):
    """One row per start of the appliance: jobs and on-start schedulers are tied to a boot."""

    id: str = Field(primary_key=True, max_length=32)
    started_at: datetime = Field(default_factory=utcnow)
    version: str = Field(max_length=32)
    pid: int


class User(SQLModel, table=True):
    """An account. `token_version` is bumped to invalidate every token issued before."""

    id: int | None = Field(default=None, primary_key=True)
    # NOCASE: `Alice` and `alice` are one account; comparisons on these columns ignore case too.
    username: str = Field(sa_column=Column(String(64, collation="NOCASE"), unique=True, nullable=False))
    email: str = Field(sa_column=Column(String(254, collation="NOCASE"), unique=True, nullable=False))
    full_name: str = Field(default="", max_length=128)
    hashed_password: str = Field(max_length=255)
    is_active: bool = True
    is_superuser: bool = False
    token_version: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class RevokedToken(SQLModel, table=True):
    """A refresh token already used (rotation) or logged out, or a logged-out browser session.

    Kept until the token would have expired anyway; a refresh token found here again is a reuse.
    """

    __tablename__ = "revoked_token"

    jti: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=16)
    expires_at: datetime = Field(index=True)
    revoked_at: datetime = Field(default_factory=utcnow)


class ApiKey(SQLModel, table=True):
    """A long-lived credential acting as its owner. Only a hash of the key is stored."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    # The first characters of the key, shown in lists so a user can tell keys apart.
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
