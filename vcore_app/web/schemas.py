"""What the API accepts and shows. Output never holds a hash, a token or a key (except a new key, once)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
)

from vcore_app.auth.passwords import password_problem
from vcore_app.models import ApiKey, Job, User


def _valid_password(value: str) -> str:
    problem = password_problem(value)
    if problem:
        raise ValueError(f"Password {problem}")
    return value


# Checked again in users.py (the CLI does not come through here); here it gives a 422 naming the field.
Password = Annotated[str, AfterValidator(_valid_password)]
# Letters (any script), digits and . @ + - _ : safe in URLs, logs and the CLI.
Username = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.@+-]+$")]
FullName = Annotated[str, Field(max_length=128)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field (say, is_superuser) is a 422, not ignored


class UserRegister(_Input):
    username: Username
    email: EmailStr
    password: Password
    full_name: FullName = ""


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
    offset: int = Field(0, ge=0)


class ApiKeyCreate(_Input):
    name: str = Field(min_length=1, max_length=100)
    expires_at: datetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """A time without a zone is taken as UTC."""
        return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


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


class JobSummary(BaseModel):
    """A job in lists and live updates: no command, input, body or result (those can be large)."""

    id: int
    name: str
    type: str
    status: str
    priority: str
    queue_name: str
    attempt: int
    max_retries: int
    error: str | None
    created_by: int | None
    scheduler_id: int | None
    created_at: datetime
    queued_at: datetime | None
    run_after: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    pid: int | None

    @classmethod
    def of(cls, job: Job) -> dict[str, Any]:
        return cls.model_validate(job, from_attributes=True).model_dump(mode="json")


class JobDetail(JobSummary):
    """One job with everything it was made from and what it produced."""

    retry_delay_seconds: float
    timeout_seconds: float | None
    command: str | None
    cwd: str | None
    env: dict[str, str] | None
    script: str | None
    input: dict[str, Any] | None
    url: str | None
    headers: dict[str, str] | None
    body: Any
    request_timeout_seconds: float | None
    meta: dict[str, Any] | None
    notify: dict[str, Any] | None
    result: Any
    boot_id: str | None
    idempotency_key: str | None
