"""Who may run which kind of job: the one rule job creation (service.py) and the LLM helpers
(vcore_app/llm/access.py) share. It imports nothing of the job engine, so either may use it."""

from __future__ import annotations

from vcore_app.errors import AppError
from vcore_app.models import JobType, User


def check_may_run(actor: object, job_type: JobType) -> None:
    """Command jobs run anything as the app's user: only a superuser may create, change or re-queue one.
    `actor` is a User, or a scheduler acting for its owner (checked when the scheduler was saved)."""
    if job_type is JobType.COMMAND and isinstance(actor, User) and not actor.is_superuser:
        raise AppError("Command jobs need a superuser", 403)
