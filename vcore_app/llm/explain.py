""" "Explain this failure": a failed job's spec and the tail of its log, secrets redacted, sent to the
default provider; the answer is kept with the job (`job_explanation`, one per job, the latest).

`failure_summary` is the same question for failure notifications (NOTIFY_LLM_SUMMARY): it never
raises, a notification without a summary is better than none.

Redaction: every value of the job's `env` and `headers` is replaced in the spec, and wherever it
appears in the command, input, body, error or log; so are the app's own secrets (keys, passwords)
and anything after "Bearer ". A value shorter than 4 characters is replaced in the spec only: in
free text it would garble every word that contains it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger
from pydantic import SecretStr
from sqlmodel import Session

from vcore_app.errors import AppError
from vcore_app.jobs import service
from vcore_app.jobs.spec import JobSpec
from vcore_app.llm.access import check_allowed
from vcore_app.llm.usage import record
from vcore_app.models import Job, JobExplanation, JobStatus, User, utcnow

if TYPE_CHECKING:
    from vcore_app.llm.client import OnResult, Result
    from vcore_app.settings import Settings

REDACTED = "[redacted]"
_MIN_SECRET = 4
_STAMP = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z ", re.MULTILINE)
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
SYSTEM = (
    "You help the operator of a self-hosted job runner understand why a job failed. Answer in a few short "
    "paragraphs: the most likely cause first, then what to change or check. Be concrete and quote the "
    "log line that shows it; say so when the log does not show enough. Values shown as [redacted] are "
    "secrets that were removed on purpose."
)


def failed_job(*, session: Session, job_id: int, actor: User) -> Job:
    """The job to explain: the actor's own (or any, for a superuser), failed, and the actor may use an LLM."""
    check_allowed(actor=actor)
    job = service.get_job(session=session, job_id=job_id, actor=actor)
    if job.status != JobStatus.FAILED:
        raise AppError(f"Job {job_id} is {job.status}; only a failed job can be explained", 409)
    return job


def log_tail(path: Path, max_bytes: int) -> str:
    """The last `max_bytes` of a job's log from a line start, without the per-line timestamps."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            fh.seek(max(size - max_bytes, 0))
            data = fh.read(max_bytes)
    except FileNotFoundError:
        return ""
    if size > max_bytes and b"\n" in data:
        data = data.split(b"\n", 1)[1]
    return _STAMP.sub(b"", data).decode("utf-8", errors="replace")


def secrets_of(job: Job, settings: Settings) -> list[str]:
    """Values that must not leave the machine, longest first (so a secret inside another goes too)."""
    values = [*(job.env or {}).values(), *(job.headers or {}).values()]
    values += [
        value.get_secret_value()
        for value in (getattr(settings, name) for name in type(settings).model_fields)
        if isinstance(value, SecretStr)
    ]
    return sorted({value for value in values if len(value) >= _MIN_SECRET}, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return _BEARER.sub(lambda match: match.group(1) + REDACTED, text)


def redacted_spec(job: Job, secrets: Iterable[str]) -> dict[str, Any]:
    spec = JobSpec.of(job).model_dump(mode="json", exclude_none=True)
    for name in ("env", "headers"):
        if spec.get(name):
            spec[name] = dict.fromkeys(spec[name], REDACTED)
    return json.loads(redact(json.dumps(spec), secrets))  # type: ignore[no-any-return]


def prompt_for(job: Job, tail: str, settings: Settings) -> str:
    secrets = secrets_of(job, settings)
    spec = json.dumps(redacted_spec(job, secrets), indent=2, ensure_ascii=False)
    error = redact(job.error or "(none)", secrets)
    return (
        f"Job {job.id} '{redact(job.name, secrets)}' failed after attempt {job.attempt} of {job.max_retries + 1}."
        f"\nError: {error}\n\nWhat ran (JSON):\n```json\n{spec}\n```\n\n"
        f"The end of its log:\n```\n{redact(tail, secrets) or '(empty)'}\n```"
    )


def ask(*, settings: Settings, job: Job, log: Path, on_result: OnResult | None = None) -> Result:
    """The question for this job and its `log` file, answered by the default provider (raises LLMError)."""
    from vcore_app.llm.client import LLM

    tail = log_tail(log, settings.LLM_EXPLAIN_LOG_BYTES)
    return LLM(settings, on_result=on_result).complete(prompt_for(job, tail, settings), system=SYSTEM, temperature=0.2)


def store(*, session: Session, job_id: int, result: Result, actor: User) -> JobExplanation:
    """Keep the answer with the job (replacing an older one) and count its tokens for the actor."""
    if session.get(Job, job_id) is None:
        raise AppError(f"Job {job_id} not found", 404)
    explanation = session.get(JobExplanation, job_id) or JobExplanation(job_id=job_id, text="", provider="", model="")
    explanation.text, explanation.provider, explanation.model = result.text, result.provider, result.model[:128]
    explanation.created_by, explanation.created_at = actor.id, utcnow()
    session.add(explanation)
    record(session=session, result=result, purpose="explain", user_id=actor.id, job_id=job_id)
    session.flush()
    return explanation


def latest(*, session: Session, job_id: int, actor: User) -> JobExplanation | None:
    """The kept answer of a job the actor may see (404 for another's job), None when there is none."""
    service.get_job(session=session, job_id=job_id, actor=actor)
    return session.get(JobExplanation, job_id)


def failure_summary(
    job: Job, log_tail_text: str, *, settings: Settings, on_result: OnResult | None = None
) -> str | None:
    """A few sentences on why `job` failed, for a failure notification; None when NOTIFY_LLM_SUMMARY
    is off or the provider fails (logged, never raised)."""
    if not settings.NOTIFY_LLM_SUMMARY:
        return None
    from vcore_app.llm.client import LLM, LLMError

    try:
        result = LLM(settings, on_result=on_result).complete(
            prompt_for(job, log_tail_text[-settings.LLM_EXPLAIN_LOG_BYTES :], settings),
            system=SYSTEM + " This goes into a notification: at most three sentences.",
            max_tokens=300,
            temperature=0.2,
        )
    except LLMError as exc:
        logger.warning("no LLM summary for the failure of job {}: {}", job.id, exc.message)
        return None
    return result.text.strip() or None
