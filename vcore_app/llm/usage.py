"""The token usage rows: one per LLM call, summed per user for superusers; and the client a script's
child process gets as `ctx.llm`, which writes them.

Who may use an LLM is access.py's business: scripts/base.py reaches this module, so it must not
reach back into jobs/ (tests/test_layers.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from vcore_app import db
from vcore_app.errors import AppError
from vcore_app.models import Job, LlmUsage, User, utcnow

if TYPE_CHECKING:  # the client itself is imported on first use only
    from pathlib import Path

    from vcore_app.llm.client import LLM, OnResult, Result


def record(
    *, session: Session, result: Result, purpose: str, user_id: int | None = None, job_id: int | None = None
) -> LlmUsage:
    """One usage row; a call made by a job counts for the job's creator."""
    if user_id is None and job_id is not None:
        job = session.get(Job, job_id)
        user_id = job.created_by if job is not None else None
    row = LlmUsage(
        user_id=user_id,
        job_id=job_id,
        purpose=purpose,
        provider=result.provider,
        model=result.model[:128],
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        latency_ms=result.latency_ms,
    )
    session.add(row)
    return row


def recorder(engine: Engine, *, purpose: str, user_id: int | None = None, job_id: int | None = None) -> OnResult:
    """An `on_result` for the client that writes each call's row in its own short transaction."""

    def on_result(result: Result) -> None:
        with db.session(engine) as session:
            record(session=session, result=result, purpose=purpose, user_id=user_id, job_id=job_id)

    return on_result


@dataclass(frozen=True)
class UserUsage:
    user_id: int | None
    username: str
    calls: int
    input_tokens: int
    output_tokens: int


def usage_per_user(*, session: Session, actor: User, since: datetime | None = None) -> list[UserUsage]:
    """Calls and tokens per user (most tokens first); superusers only."""
    if not actor.is_superuser:
        raise AppError("This needs a superuser", 403)
    tokens_in, tokens_out = func.sum(LlmUsage.input_tokens), func.sum(LlmUsage.output_tokens)
    user_id, username = col(LlmUsage.user_id), col(User.username)
    statement = (
        select(user_id, username, func.count(), tokens_in, tokens_out)
        .join(User, col(User.id) == user_id, isouter=True)
        .group_by(user_id, username)
        .order_by((tokens_in + tokens_out).desc())
    )
    if since is not None:
        statement = statement.where(col(LlmUsage.created_at) >= since)
    return [
        UserUsage(owner, name or "(deleted user)", calls, int(inp or 0), int(out or 0))
        for owner, name, calls, inp, out in session.execute(statement).all()
    ]


def since_days(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def client_for_job(*, data_dir: Path | None, job_id: int | None) -> LLM:
    """`ctx.llm` in a script's child process: the app's settings, and a usage row per call counted for
    the job's creator (a script run by hand, outside a job, counts for nobody and is not recorded)."""
    from vcore_app.llm.client import LLM
    from vcore_app.settings import load_settings

    settings = load_settings(data_dir=str(data_dir) if data_dir is not None else None)
    if job_id is None:
        return LLM(settings)
    return LLM(
        settings,
        on_result=recorder(db.engine_for(settings), purpose="script", job_id=job_id),
    )
