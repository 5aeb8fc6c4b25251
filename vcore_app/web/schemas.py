"""What the API accepts and shows. Output never holds a hash, a token or a key (except a new key, once)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
)

from vcore_app.jobs.service import BATCH_MAX
from vcore_app.jobs.spec import JobSpec, QueueName
from vcore_app.jobs.views import JobSummary
from vcore_app.models import ID_MAX, ApiKey, JobExplanation, JobPriority, JobStatus, JobType, User
from vcore_app.users import FullName, Password, StrictInput, Username, UserRegister

_Input = StrictInput


class UserCreate(UserRegister):
    is_active: bool = True
    is_superuser: bool = False


class UserUpdateMe(_Input):
    email: EmailStr | None = None
    full_name: FullName | None = None


class UserUpdate(_Input):
    username: Username | None = None
    email: EmailStr | None = None
    full_name: FullName | None = None
    password: Password | None = None
    is_active: bool | None = None
    is_superuser: bool | None = None


class UpdatePassword(_Input):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: Password


class RefreshRequest(_Input):
    refresh_token: str = Field(min_length=1, max_length=4096)


class LogoutRequest(_Input):
    refresh_token: str | None = Field(None, max_length=4096)


class ResetPassword(_Input):
    token: str = Field(min_length=1, max_length=4096)
    new_password: Password


class Page(_Input):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=ID_MAX)


class ApiKeyCreate(_Input):
    name: str = Field(min_length=1, max_length=100)
    expires_at: datetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """A time without a zone is taken as UTC."""
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def changes(model: BaseModel) -> dict[str, Any]:
    """The fields the client sent (null means "leave it"), for partial updates."""
    return model.model_dump(exclude_unset=True, exclude_none=True)


class UserPublic(BaseModel):
    id: int
    username: str
    email: str
    full_name: str
    is_active: bool
    is_superuser: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> dict[str, Any]:
        return cls.model_validate(user, from_attributes=True).model_dump(mode="json")


class ApiKeyPublic(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> dict[str, Any]:
        return cls.model_validate(row, from_attributes=True).model_dump(mode="json")


class JobQuery(BaseModel):
    """The filters and page of a job list (the API's query and the /jobs page's filter form)."""

    model_config = ConfigDict(extra="forbid")
    status: JobStatus | None = None
    queue_name: QueueName | None = None
    priority: JobPriority | None = None
    type: JobType | None = None
    search: str | None = Field(None, max_length=200, pattern=r"^[^\x00]*$")  # NUL matched nothing but all
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=ID_MAX)


class QueueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    queue_name: QueueName | None = Field(None, description="One queue; both when left out.")


# -- What the API answers (web/apidoc.py documents each handler's answers with these) ------------


class Message(BaseModel):
    """A confirmation in one sentence."""

    message: str


class StatusMessage(BaseModel):
    """What a status request did (the seed's `{"success", "message"}`)."""

    success: bool
    message: str


class QueueState(BaseModel):
    workers: int
    consuming: bool
    running: int
    pending: int | None = Field(description="Waiting tasks; null while the queue's storage (Redis) does not answer.")
    scheduled: int | None = Field(description="Tasks waiting for their time; null as `pending`.")


class QueueControl(StatusMessage):
    """The queues after starting or stopping their consumers."""

    queues: dict[str, QueueState]


class TokenPair(BaseModel):
    """An access token (short-lived) and the refresh token that renews it (works once)."""

    access_token: str
    refresh_token: str
    token_type: str


class UserPage(BaseModel):
    """A page of users and how many there are in all."""

    items: list[UserPublic]
    total: int


class JobPage(BaseModel):
    """A page of jobs, newest first, and how many match in all."""

    items: list[JobSummary]
    total: int


class ApiKeyList(BaseModel):
    """The user's API keys (never the keys themselves)."""

    items: list[ApiKeyPublic]


class ApiKeyCreated(ApiKeyPublic):
    """A new API key: `key` is shown in this answer only."""

    key: str


class FireTime(BaseModel):
    local: str
    utc: str


class Preview(BaseModel):
    """The next fire times of a scheduler, in its zone and in UTC."""

    timezone: str
    times: list[FireTime]


class Health(BaseModel):
    """Liveness: the version, the database and both queues."""

    status: str
    version: str
    database: str
    queues: dict[str, QueueState]


# -- LLM helpers (web/api/llm.py) ----------------------------------------------------------------

LlmProvider = Literal["openai", "anthropic", "google", "groq", "local"]


class CompletionRequest(BaseModel):
    """One prompt for an LLM; `stream: true` answers with the text as it is written (text/plain)."""

    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(min_length=1, max_length=200_000)
    provider: LlmProvider | None = Field(None, description="Default: LLM_DEFAULT_PROVIDER.")
    model: str | None = Field(None, max_length=128, description="Default: LLM_DEFAULT_MODEL or the provider's.")
    system: str | None = Field(None, max_length=20_000)
    max_tokens: int = Field(1024, ge=1, le=200_000)
    temperature: float | None = Field(None, ge=0, le=2)
    stream: bool = False


class LlmUsageInfo(BaseModel):
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    latency_ms: float


class Completion(BaseModel):
    """The whole answer and what it cost."""

    text: str
    usage: LlmUsageInfo


class Explanation(BaseModel):
    """Why a failed job failed, as an LLM read its spec and the end of its log (secrets removed)."""

    job_id: int
    text: str
    provider: str
    model: str
    created_at: datetime

    @classmethod
    def of(cls, row: JobExplanation) -> dict[str, Any]:
        return cls.model_validate(row, from_attributes=True).model_dump(mode="json")


class UsageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(30, ge=1, le=3650, description="How far back to count.")


class UserTokens(BaseModel):
    user_id: int | None
    username: str
    calls: int
    input_tokens: int
    output_tokens: int


class UsageReport(BaseModel):
    """LLM calls and tokens per user over the last `days` days, most tokens first."""

    days: int
    items: list[UserTokens]


# -- Plugins, Quick Tools and scripts (issue 16) --------------------------------------------------


class ToolInput(BaseModel):
    """A Quick Tool's input: a JSON object whose fields are the tool's (its `input_schema`)."""

    model_config = ConfigDict(extra="allow")


class ToolInfo(BaseModel):
    name: str
    title: str
    description: str
    superuser_only: bool
    input_schema: dict[str, Any]


class ToolList(BaseModel):
    """The Quick Tools this user may run (superuser-only ones are hidden from others)."""

    items: list[ToolInfo]


class ToolResult(BaseModel):
    """What a Quick Tool answered; `result`'s shape is the tool's own."""

    tool: str
    result: Any


class ScriptInfo(BaseModel):
    name: str
    description: str
    input_schema: dict[str, Any]


class ScriptList(BaseModel):
    """The scripts a script job may run."""

    items: list[ScriptInfo]


class ScriptRun(BaseModel):
    """A script job's input and options; the script is named by the path."""

    model_config = ConfigDict(extra="forbid")
    input: dict[str, Any] = Field(default_factory=dict, description="The script's input (see its input_schema)")
    name: str = Field("", max_length=200)
    priority: JobPriority = JobPriority.NORMAL
    queue_name: QueueName = "default"
    max_retries: int = Field(0, ge=0, le=100)
    timeout_seconds: float | None = Field(None, gt=0, le=7 * 86400)


class PluginInfo(BaseModel):
    """One plugin: where it came from and the hooks it implements, or why it failed (the traceback
    only for superusers)."""

    name: str
    origin: str
    location: str
    hooks: list[str]
    ok: bool
    error: str | None
    failures: int
    traceback: str | None = None


class PluginList(BaseModel):
    items: list[PluginInfo]


class PluginsReloaded(PluginList):
    """The plugins after a reload of the plugins folder, and what the reload did."""

    message: str


# -- Operations (issue 17) ----------------------------------------------------------------------


class BackupOut(BaseModel):
    """A backup archive under DATA_DIR/backups and where to download it."""

    name: str
    bytes: int
    created_at: datetime
    download: str


class BackupPage(BaseModel):
    """The backup archives, newest first, and how many are kept."""

    items: list[BackupOut]
    total: int
    keep: int


class BulkDeleted(BaseModel):
    """How many jobs a bulk delete removed."""

    deleted: int


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    address: str | None
    outcome: str


class AuditPage(BaseModel):
    """Audit rows, newest first, and how many match the filters."""

    items: list[AuditEventOut]
    total: int


class HousekeepingRun(BaseModel):
    started_at: datetime
    finished_at: datetime
    removed_jobs: int
    removed_logs: int
    removed_log_bytes: int
    removed_audit_rows: int
    vacuumed: bool
    summary: str


class StorageReport(BaseModel):
    """Disk used by job logs and databases, the oldest job kept, and the last housekeeping run."""

    logs_bytes: int
    log_files: int
    databases_bytes: dict[str, int]
    jobs: int
    oldest_job_at: datetime | None
    last_run: HousekeepingRun | None


class Started(BaseModel):
    """Work started in the background."""

    detail: str


# -- Throughput (issue 13): many jobs in one request ----------------------------------------------


class JobBatch(BaseModel):
    """Up to 1,000 jobs, each as for `POST /api/v1/jobs`; created all together or not at all."""

    model_config = ConfigDict(extra="forbid")
    jobs: list[JobSpec] = Field(min_length=1, max_length=BATCH_MAX)


class JobBatchCreated(BaseModel):
    """The jobs the batch created (or, for a repeated Idempotency-Key, had created), in its order."""

    ids: list[int]
    items: list[JobSummary]


class WorkerNode(BaseModel):
    """A node (issue 20): the web server and workers of one process, a web node, or a worker node."""

    id: str = Field(description="Its boot id: jobs it runs carry it as boot_id.")
    host: str
    pid: int
    role: Literal["all", "web", "worker"]
    queues: list[str] = Field(description="The queues whose jobs it runs.")
    started_at: datetime
    last_seen: datetime = Field(description="Its last heartbeat.")
    running: int = Field(description="Jobs running on it now.")
    alive: bool = Field(description="False once its heartbeat is older than WORKER_DEAD_AFTER_SECONDS.")
    scheduler: bool = Field(description="It fires the schedulers (the web node holding the scheduler lease).")


class WorkerList(BaseModel):
    """Every registered node, oldest first."""

    items: list[WorkerNode]
