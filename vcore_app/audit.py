"""The audit log: who did what, when, from where, and how it ended. Kept apart from the app log.

`record(session, action=..., target=...)` adds one row in the caller's transaction, so a row exists
exactly when the action committed. The acting party and the address come from the request being
served (`origin`, set by web/audit.py for every HTTP request) unless the caller names an actor itself:
the scheduler passes "scheduler N", housekeeping "system", the command line "cli". Failed logins
are recorded in a transaction of their own (`record_now`), since there is nothing to commit with.

What is recorded: what people (and the command line) do, and what the system does on its own
initiative that changes data (housekeeping, scheduled backups). The routine jobs of a scheduler are not:
they are in the job table with their scheduler_id, and a scheduler firing every second would make the
audit log outgrow the jobs it describes.

Rows hold names and ids only. `_clean` masks anything shaped like a credential anyway (an API key,
a JWT), so a careless target can never leak one into the table or onto the audit page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, func
from sqlmodel import Session, col, select

from vcore_app import db
from vcore_app.models import AuditEvent, User

SYSTEM = "system"
CLI = "cli"
OK, FAILED, DENIED = "ok", "failed", "denied"

# API keys (auth/apikeys.py: "vc_" + urlsafe), JWTs (three base64url parts), long hex/base64 runs.
_SECRET = re.compile(r"vc_[A-Za-z0-9_\-]{8,}|eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+|[A-Za-z0-9_\-]{40,}")


@dataclass(frozen=True)
class Origin:
    """Who is acting in the current context and from which address."""

    actor: str
    address: str | None = None


_origin: ContextVar[Origin | None] = ContextVar("vcore_audit_origin", default=None)


@contextmanager
def acting(origin: Origin) -> Iterator[None]:
    """Attribute every `record` inside this block (and the worker threads it starts) to `origin`."""
    token = _origin.set(origin)
    try:
        yield
    finally:
        _origin.reset(token)


def scheduler_actor(scheduler_id: int | None) -> str:
    return f"scheduler {scheduler_id}"


def actor_name(actor: User | str | None) -> str:
    if isinstance(actor, User):
        return actor.username
    if actor:
        return actor
    origin = _origin.get()
    return origin.actor if origin is not None else SYSTEM


def _clean(text: str, limit: int) -> str:
    return _SECRET.sub("***", text)[:limit]


def record(
    session: Session,
    *,
    action: str,
    target: str = "",
    actor: User | str | None = None,
    outcome: str = OK,
    address: str | None = None,
) -> None:
    """One audit row in this session's transaction."""
    origin = _origin.get()
    session.add(
        AuditEvent(
            actor=_clean(actor_name(actor), 100),
            action=action,
            target=_clean(target, 200),
            address=address or (origin.address if origin else None),
            outcome=outcome,
        )
    )


def record_now(engine: Engine, **event: str | None) -> None:
    """One audit row in its own short transaction (an attempt that failed and committed nothing)."""
    with db.session(engine) as session:
        record(session, **event)  # type: ignore[arg-type]


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None  # a prefix: "job" matches "job.kill" and "job.delete"
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_events(
    *, session: Session, where: AuditFilter, limit: int = 50, offset: int = 0
) -> tuple[list[AuditEvent], int]:
    """Newest first, and the total matching."""
    filters: list[ColumnElement[bool]] = []
    if where.actor:
        filters.append(col(col(AuditEvent.actor)) == where.actor)
    if where.action:
        filters.append(col(col(AuditEvent.action)).startswith(where.action, autoescape=True))
    if where.outcome:
        filters.append(col(col(AuditEvent.outcome)) == where.outcome)
    if where.since:
        filters.append(col(col(AuditEvent.at)) >= where.since)
    if where.until:
        filters.append(col(col(AuditEvent.at)) < where.until)
    rows = session.exec(
        select(AuditEvent).where(*filters).order_by(col(col(AuditEvent.id)).desc()).limit(limit).offset(offset)
    )
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*filters)).one()
    return list(rows.all()), total


def last(*, session: Session, action: str) -> AuditEvent | None:
    return session.exec(
        select(AuditEvent).where(col(col(AuditEvent.action)) == action).order_by(col(col(AuditEvent.id)).desc())
    ).first()
