"""JobSpec: what to run and how, validated. The API, rerun and the scheduler all create jobs from it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vcore_app.errors import AppError
from vcore_app.models import Job, JobPriority, JobType
from vcore_app.notify.rules import NotifyRule
from vcore_app.scripts.registry import ScriptRegistry, UnknownScript
from vcore_app.web.validation import validation_detail

QueueName = Literal["default", "reserved"]

# Per type: the fields it needs, and the fields it may have. A field of another type is an error,
# so a typo in `type` does not silently create a job that ignores half of its body.
TYPE_FIELDS: dict[JobType, tuple[frozenset[str], frozenset[str]]] = {
    JobType.COMMAND: (frozenset({"command"}), frozenset({"cwd", "env"})),
    JobType.SCRIPT: (frozenset({"script"}), frozenset({"input"})),
    JobType.API_POST: (frozenset({"url"}), frozenset({"headers", "body", "request_timeout_seconds"})),
}
SPEC_FIELDS = frozenset().union(*(need | may for need, may in TYPE_FIELDS.values()))


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

    @classmethod
    def of(cls, job: Job) -> JobSpec:
        """The spec a job was made from (for rerun and edits)."""
        fields = {"type", "name", "priority", "queue_name", "max_retries", "retry_delay_seconds", "timeout_seconds",
                  "meta", "notify", *TYPE_FIELDS[JobType(job.type)][0], *TYPE_FIELDS[JobType(job.type)][1]}
        return cls.model_validate({name: getattr(job, name) for name in fields if getattr(job, name) is not None})

    def checked(self, scripts: ScriptRegistry) -> JobSpec:
        """Check the per-type fields and a script's input; 422 naming the field otherwise."""
        need, may = TYPE_FIELDS[self.type]
        given = {name for name in SPEC_FIELDS if getattr(self, name) is not None}
        problems = [_problem(name, f"Field required for a {self.type.value} job", "missing") for name in sorted(need - given)]
        problems += [_problem(name, f"Not used by a {self.type.value} job", "extra_forbidden")
                     for name in sorted(given - need - may)]
        if problems:
            raise AppError(problems, 422)
        if self.type is JobType.SCRIPT:
            assert self.script is not None
            try:
                normalized = scripts.validate_input(self.script, self.input)
            except UnknownScript as exc:
                raise AppError([_problem("script", str(exc), "value_error")], 422) from None
            except ValidationError as exc:
                raise AppError(validation_detail(exc, ("body", "input")), 422) from None
            return self.model_copy(update={"input": normalized})
        return self

    def display_name(self) -> str:
        if self.name:
            return self.name
        label = {JobType.COMMAND: self.command, JobType.SCRIPT: self.script, JobType.API_POST: self.url}[self.type]
        return (label or self.type.value).splitlines()[0][:200]


def _problem(field: str, message: str, kind: str) -> dict[str, Any]:
    return {"loc": ["body", field], "msg": message, "type": kind}
