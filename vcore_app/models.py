"""Database tables. Split per domain when this passes ~600 lines."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Column, String
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


class JobScheduler(SQLModel, table=True):
    """Creates jobs from `job_template` on start, every N seconds, or on a cron expression."""

    __tablename__ = "job_scheduler"

    id: int | None = Field(default=None, primary_key=True)
    env_name: str = Field(default="", max_length=64)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    trigger_type: str = Field(max_length=16)  # on_start | repeat | cron
    repeat_every_seconds: int | None = None
    cron: str | None = Field(default=None, max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    job_template: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    enabled: bool = True
    overlap_policy: str = Field(default="skip", max_length=16)  # skip | queue | replace
    misfire_policy: str = Field(default="run_once", max_length=16)  # run_once | skip
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_run_at: datetime | None = None
    last_job_id: int | None = None
    # Indexed: the scheduler thread asks for the earliest due one.
    next_run_at: datetime | None = Field(default=None, index=True)
