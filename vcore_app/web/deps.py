"""What a handler needs from the app, one way each: the runtime, the settings, the acting user, and
`in_db`, the one way from a handler to the database.

Handlers (API and pages alike) never reach into `request.app.state` themselves and never open a
session or a thread of their own: `await in_db(request, lambda session: domain_fn(session=session,
...))` runs the domain function in one short transaction on a worker thread, so the event loop never
waits on SQLite's write lock (or on argon2 inside it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlmodel import Session
from starlette.requests import HTTPConnection

from vcore_app import db
from vcore_app.auth.guards import current_user, require_superuser

if TYPE_CHECKING:
    from vcore_app.runtime import Runtime
    from vcore_app.settings import Settings

T = TypeVar("T")

__all__ = ["actor", "in_db", "runtime", "settings", "superuser"]


def runtime(conn: HTTPConnection) -> Runtime:
    """The process's runtime: engine, queues, live hub, job wiring, scheduler."""
    active: Runtime = conn.app.state.runtime
    return active


def settings(conn: HTTPConnection) -> Settings:
    active: Settings = conn.app.state.settings
    return active


actor = current_user
"""The authenticated user acting on this request (401 if none): pass it to the domain as `actor=`."""

superuser = require_superuser
"""The acting user if a superuser (403 otherwise)."""


async def in_db(conn: HTTPConnection, fn: Callable[[Session], T], *, readonly: bool = False) -> T:
    """`fn(session)` in its own short transaction, off the event loop. Commits on success; a
    read-only session never waits for a writer."""
    return await db.run(runtime(conn).engine, fn, readonly=readonly)
