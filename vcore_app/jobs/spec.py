"""JobSpec: what to run and how, validated. The API, rerun and the scheduler all create jobs from it."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vcore_app.errors import FieldError, from_validation, invalid_fields
from vcore_app.models import Job, JobPriority, JobType
from vcore_app.notify.rules import NotifyRule
from vcore_app.scripts.registry import ScriptRegistry, UnknownScript

QueueName = Literal["default", "reserved"]

# Per type: the fields it needs, and the fields it may have. A field of another type is an error,
# so a typo in `type` does not silently create a job that ignores half of its body.
TYPE_FIELDS: dict[JobType, tuple[frozenset[str], frozenset[str]]] = {
    JobType.COMMAND: (frozenset({"command"}), frozenset({"cwd", "env"})),
    JobType.SCRIPT: (frozenset({"script"}), frozenset({"input"})),
    JobType.API_POST: (frozenset({"url"}), frozenset({"headers", "body", "request_timeout_seconds"})),
}
SPEC_FIELDS = frozenset().union(*(need | may for need, may in TYPE_FIELDS.values()))
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token (RFC 9110)


class JobSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: JobType
    name: str = Field("", max_length=200, description="Shown in lists; default: made from the command, script or URL.")
    priority: JobPriority = JobPriority.NORMAL
    queue_name: QueueName = "default"
    max_retries: int = Field(0, ge=0, le=100)
    retry_delay_seconds: float = Field(0, ge=0, le=86400)
    timeout_seconds: float | None = Field(None, gt=0, le=7 * 86400)
    meta: dict[str, Any] | None = None
    notify: NotifyRule | None = Field(None, description="Which events of this job go to which channels.")
    command: str | None = Field(None, min_length=1, max_length=100_000)
    cwd: str | None = Field(None, min_length=1, max_length=1024)
    env: dict[str, str] | None = None
    script: str | None = Field(None, min_length=1, max_length=128)
    input: dict[str, Any] | None = None
    url: str | None = Field(None, max_length=2048, pattern=r"^https?://")
    headers: dict[str, str] | None = None
    body: Any = None
    request_timeout_seconds: float | None = Field(None, gt=0, le=3600)

    @model_validator(mode="before")
    @classmethod
    def _seed_shape(cls, data: Any) -> Any:
        """The seed's clients send every type as `{"command", "meta"}`: for a script `command` names
        the script and `meta` is its input; for an api_post `command` is the URL and `meta` the JSON
        body. Mapped onto the explicit fields (the preferred form) when those are absent."""
        if not isinstance(data, dict) or "command" not in data:
            return data
        kind = data.get("type")
        target, payload = {"script": ("script", "input"), "api_post": ("url", "body")}.get(str(kind), (None, None))
        if target is None or payload is None or target in data:
            return data
        mapped = {**data, target: data["command"]}
        del mapped["command"]
        if payload not in mapped and isinstance(data.get("meta"), dict):
            mapped[payload] = data["meta"]
        return mapped

    # What no process or HTTP client could take is refused at creation, naming the field, instead of
    # being accepted and failing later with an internal error.
    @field_validator("command", "cwd")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value

    @field_validator("env")
    @classmethod
    def _environment(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key, item in (value or {}).items():
            if not key or "=" in key or "\x00" in key:
                raise ValueError(f"variable name {key!r} must be non-empty, without '=' or NUL")
            if "\x00" in item:
                raise ValueError(f"the value of {key} must not contain a NUL character")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        import httpx  # on first use: serving starts without it

        try:
            host = httpx.URL(value).host
        except httpx.InvalidURL as exc:
            raise ValueError(f"not a valid URL ({exc})") from None
        if not host:
            raise ValueError("the URL names no host")
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name, item in (value or {}).items():
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"header name {name!r} is not a valid HTTP header name")
            if any(char in item for char in "\r\n\x00"):
                raise ValueError(f"the value of header {name} must not contain a line break or NUL")
        return value

    @classmethod
    def of(cls, job: Job) -> JobSpec:
        """The spec a job was made from (for rerun and edits)."""
        fields = {
            "type",
            "name",
            "priority",
            "queue_name",
            "max_retries",
            "retry_delay_seconds",
            "timeout_seconds",
            "meta",
            "notify",
            *TYPE_FIELDS[JobType(job.type)][0],
            *TYPE_FIELDS[JobType(job.type)][1],
        }
        return cls.model_validate({name: getattr(job, name) for name in fields if getattr(job, name) is not None})

    def checked(self, scripts: ScriptRegistry) -> JobSpec:
        """Check the per-type fields and a script's input; 422 naming the field otherwise."""
        need, may = TYPE_FIELDS[self.type]
        given = {name for name in SPEC_FIELDS if getattr(self, name) is not None}
        problems = [
            FieldError(("body", name), f"Field required for a {self.type.value} job", "missing")
            for name in sorted(need - given)
        ]
        problems += [
            FieldError(("body", name), f"Not used by a {self.type.value} job", "extra_forbidden")
            for name in sorted(given - need - may)
        ]
        if problems:
            raise invalid_fields(problems)
        if self.type is JobType.SCRIPT:
            assert self.script is not None
            try:
                normalized = scripts.validate_input(self.script, self.input)
            except UnknownScript as exc:
                raise invalid_fields([FieldError(("body", "script"), str(exc))]) from None
            except ValidationError as exc:
                raise from_validation(exc, ("body", "input")) from None
            return self.model_copy(update={"input": normalized})
        return self

    def display_name(self) -> str:
        if self.name:
            return self.name
        label = {JobType.COMMAND: self.command, JobType.SCRIPT: self.script, JobType.API_POST: self.url}[self.type]
        return (label or self.type.value).splitlines()[0][:200]
