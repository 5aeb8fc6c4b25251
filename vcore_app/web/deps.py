"""What a handler needs from the app, one way each: the runtime, the settings, the acting user, and
`in_db`, the one way from a handler to the database.

Handlers (API and pages alike) never reach into `request.app.state` themselves and never open a
session or a thread of their own: `await in_db(request, lambda session: domain_fn(session=session,
...))` runs the domain function in one short transaction on a worker thread, so the event loop never
waits on SQLite's write lock (or on argon2 inside it).

Roles: the gate (auth/backend.py) lets only authenticated requests reach a non-public route;
`superuser(request)` guards a route that is for superusers as a whole, before its body is read;
rules that depend on the data (whose job, which job type) are the domain functions' own checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlmodel import Session
from starlette.requests import HTTPConnection

from vcore_app import db
from vcore_app.errors import AppError
from vcore_app.models import User

if TYPE_CHECKING:
    from vcore_app.auth.throttle import LoginThrottle
    from vcore_app.runtime import Runtime
    from vcore_app.settings import Settings
    from vcore_app.tools import ToolContext
    from vcore_app.tools.registry import ToolRegistry
    from vcore_app.web.shown_once import ShownOnce

T = TypeVar("T")

__all__ = [
    "actor",
    "actor_id",
    "in_db",
    "login_throttle",
    "runtime",
    "settings",
    "shown_once",
    "superuser",
    "tool_context",
    "tools",
]


def runtime(conn: HTTPConnection) -> Runtime:
    """The process's runtime: engine, queues, live hub, job and scheduler wiring, clock."""
    active: Runtime = conn.app.state.runtime
    return active


def settings(conn: HTTPConnection) -> Settings:
    active: Settings = conn.app.state.settings
    return active


def tools(conn: HTTPConnection) -> ToolRegistry:
    """The Quick Tools this app offers (ours and the plugins', refreshed on a plugin reload)."""
    return runtime(conn).tools


def tool_context(conn: HTTPConnection) -> ToolContext:
    """What a Quick Tool that needs more than its input gets (the LLM client of "Ask an LLM")."""
    from vcore_app.tools import ToolContext

    return ToolContext(settings=settings(conn), actor=actor(conn), engine=runtime(conn).engine)


def login_throttle(conn: HTTPConnection) -> LoginThrottle:
    """Recent failed logins per name and address (in memory: one process holds all the state)."""
    throttle: LoginThrottle = conn.app.state.login_throttle
    return throttle


def shown_once(conn: HTTPConnection) -> ShownOnce:
    """Secrets waiting for the one page that shows them (web/shown_once.py; in memory, like the throttle)."""
    held: ShownOnce = conn.app.state.shown_once
    return held


def actor(conn: HTTPConnection) -> User:
    """The authenticated user acting on this request (401 if none): pass it to the domain as `actor=`."""
    principal = conn.scope.get("user")
    if principal is None or not principal.is_authenticated:
        raise AppError("Not authenticated", 401, headers={"WWW-Authenticate": "Bearer"})
    user: User = principal.user
    return user


def actor_id(conn: HTTPConnection) -> int:
    """The acting user's id, to read the user again inside a transaction (a change may be on its way)."""
    user_id = actor(conn).id
    assert user_id is not None  # a user read from the database
    return user_id


def superuser(conn: HTTPConnection) -> User:
    """The acting user if a superuser (403 otherwise)."""
    user = actor(conn)
    if not user.is_superuser:
        raise AppError("This needs a superuser", 403)
    return user


async def in_db(conn: HTTPConnection, fn: Callable[[Session], T], *, readonly: bool = False) -> T:
    """`fn(session)` in its own short transaction, off the event loop. Commits on success; a
    read-only session never waits for a writer."""
    return await db.run(runtime(conn).engine, fn, readonly=readonly)
