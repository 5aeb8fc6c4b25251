"""Who may use an LLM: whoever may run scripts, since an LLM call is what the `llm_prompt` script
does; whatever jobs/rights.py decides about script jobs decides this too."""

from __future__ import annotations

from vcore_app.errors import AppError
from vcore_app.jobs.rights import check_may_run
from vcore_app.models import JobType, User


def check_allowed(*, actor: User) -> None:
    """403 unless `actor` is active and may run a script job."""
    if not actor.is_active:
        raise AppError("This account is disabled", 403)
    check_may_run(actor, JobType.SCRIPT)
