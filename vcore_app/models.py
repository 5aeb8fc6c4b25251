"""Database tables. Split per domain when this passes ~600 lines."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Boot(SQLModel, table=True):
    """One row per start of the appliance: jobs and on-start schedulers are tied to a boot."""

    id: str = Field(primary_key=True, max_length=32)
    started_at: datetime = Field(default_factory=utcnow)
    version: str = Field(max_length=32)
    pid: int
