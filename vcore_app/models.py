"""Database tables. Split per domain when this passes ~600 lines."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import JSON, Column, ForeignKey, Integer, LargeBinary, String
from sqlmodel import Field, SQLModel

# Ids (and offsets) the app accepts stay below this: a bigger number in a path or a page is "not
# found" or a 422, never an overflow of SQLite's 64-bit integers. Autoincrement ids never get there.
ID_MAX = 10**18 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Row(Protocol):
    id: int | None


def pk(row: _Row) -> int:
    """The id of a row that is in the database.

    SQLModel types an autoincrement id `int | None` because a new row has none until its INSERT; a row
    read back or flushed always has one, so a None here is a bug, not a case for the caller to handle.
    """
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: it was never flushed")
    return row.id


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


class JobType(StrEnum):
    COMMAND = "command"
    SCRIPT = "script"
    API_POST = "api_post"


class JobStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobPriority(StrEnum):
    HIGHEST = "highest"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"
    LOWEST = "lowest"


class Job(SQLModel, table=True):
    """One unit of work and the ledger of its attempts (docs/design.md, "The ledger rule").

    Huey only carries the id; everything else lives here. The job list is read newest first by id
    (ids are assigned in creation order): each single-column index below also holds the rowid in
    SQLite, so `WHERE status = ? ORDER BY id DESC LIMIT 50` walks one index backwards and stops.
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    type: str = Field(max_length=16, index=True)
    priority: str = Field(default=JobPriority.NORMAL, max_length=16, index=True)
    queue_name: str = Field(default="default", max_length=32, index=True)
    status: str = Field(default=JobStatus.QUEUED, max_length=16, index=True)
    attempt: int = 0
    max_retries: int = 0
    retry_delay_seconds: float = 0
    timeout_seconds: float | None = None
    # command
    command: str | None = None
    cwd: str | None = Field(default=None, max_length=1024)
    env: dict[str, str] | None = Field(default=None, sa_column=Column(JSON))
    # script
    script: str | None = Field(default=None, max_length=128)
    input: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # api_post
    url: str | None = Field(default=None, max_length=2048)
    headers: dict[str, str] | None = Field(default=None, sa_column=Column(JSON))
    body: Any = Field(default=None, sa_column=Column(JSON))
    request_timeout_seconds: float | None = None
    # outcome and bookkeeping
    meta: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    result: Any = Field(default=None, sa_column=Column(JSON))
    error: str | None = Field(default=None, max_length=1000)
    # Jobs outlive their creator: deleting a user keeps its jobs (the history), unowned.
    created_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user.id", ondelete="SET NULL"), index=True, nullable=True)
    )
    scheduler_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    queued_at: datetime | None = None
    run_after: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = Field(default=None, index=True)  # retention (housekeeping.py); 0009
    pid: int | None = None
    boot_id: str | None = Field(default=None, max_length=32)
    # Set while a kill or timeout ends the processes of a `running` job ("killed by alice", "timed
    # out after 5 s"); the job becomes `cancelled` or `failed` only once none is left (runner.py).
    stopping: str | None = Field(default=None, max_length=200)
    idempotency_key: str | None = Field(default=None, max_length=128, unique=True)
    # Which events of this job go to which channels (vcore_app/notify/rules.py); None: the scheduler's or the defaults.
    notify: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


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
    # Which events of its jobs go to which channels (vcore_app/notify/rules.py); None: the defaults.
    notify: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


# -- LLM helpers (vcore_app/llm/) ------------------------------------------------------------------


class LlmUsage(SQLModel, table=True):
    """One LLM call: who made it, for what, and what it cost in tokens (the dashboard sums them)."""

    __tablename__ = "llm_usage"

    id: int | None = Field(default=None, primary_key=True)
    # Usage outlives its user, unowned, like jobs do.
    user_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user.id", ondelete="SET NULL"), index=True, nullable=True)
    )
    job_id: int | None = Field(default=None, index=True)
    purpose: str = Field(max_length=32)  # script | quick_tool | explain | summary | api
    provider: str = Field(max_length=32)
    model: str = Field(max_length=128)
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0
    created_at: datetime = Field(default_factory=utcnow, index=True)


class JobExplanation(SQLModel, table=True):
    """The latest "explain this failure" answer of a job; goes when the job goes."""

    __tablename__ = "job_explanation"

    job_id: int = Field(sa_column=Column(Integer, ForeignKey("job.id", ondelete="CASCADE"), primary_key=True))
    text: str
    provider: str = Field(max_length=32)
    model: str = Field(max_length=128)
    created_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow)


# -- issue 17 (operations): the audit log -------------------------------------------------------------


class AuditEvent(SQLModel, table=True):
    """Who did what, kept apart from the app log (audit.py writes and reads it). Never a secret."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=100, index=True)  # a username, "system", "cli" or "scheduler N"
    action: str = Field(max_length=64, index=True)  # "job.kill", "user.create", "login", ...
    target: str = Field(default="", max_length=200)
    address: str | None = Field(default=None, max_length=64)
    outcome: str = Field(default="ok", max_length=16)  # ok | failed | denied


# -- issue 20 (worker nodes): who runs jobs, who fires the schedulers, logs any node can read ------------


class Worker(SQLModel, table=True):
    """A running node (one process): its boot id is the id jobs carry in `boot_id` while it runs them.
    It sends a heartbeat (`last_seen`); with QUEUE_URL, a node silent for WORKER_DEAD_AFTER_SECONDS is
    lost and its jobs recovered (cluster/nodes.py)."""

    id: str = Field(primary_key=True, max_length=32)
    host: str = Field(max_length=255)
    pid: int
    role: str = Field(max_length=16)  # web | worker | all (web and workers in one process)
    queues: str = Field(default="", max_length=64)  # the queues it consumes, comma-separated
    started_at: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow, index=True)
    lost_at: datetime | None = None  # when another node declared it lost (cluster/nodes.py)


class Lease(SQLModel, table=True):
    """A duty only one node may hold at a time (the scheduler): taken or renewed by one guarded UPDATE."""

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(default="", max_length=32)
    expires_at: datetime = Field(default_factory=utcnow)


class JobLogChunk(SQLModel, table=True):
    """With QUEUE_URL, a job's log file shipped from the worker that writes it, so any web node can
    read it (cluster/logship.py). `generation` changes when the file was capped and shipped anew."""

    __tablename__ = "job_log_chunk"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(sa_column=Column(Integer, ForeignKey("job.id", ondelete="CASCADE"), index=True))
    generation: int = 0
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
