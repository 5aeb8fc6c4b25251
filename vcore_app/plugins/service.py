"""What the Plugins page, its API twin and the CLI show and do, with the role rules in one place:
anyone logged in sees which plugins are loaded and which failed; only a superuser sees tracebacks
(they show file paths and code) and may reload."""

from __future__ import annotations

from typing import Any

from vcore_app import audit
from vcore_app.errors import AppError
from vcore_app.models import User
from vcore_app.plugins.manager import PluginRecord, Plugins


def describe(record: PluginRecord, *, with_traceback: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": record.name,
        "origin": record.origin,
        "location": record.location,
        "hooks": record.hooks,
        "ok": record.ok,
        "error": record.error,
        "failures": record.failures,
    }
    if with_traceback:
        entry["traceback"] = record.traceback
    return entry


def list_plugins(*, plugins: Plugins, actor: User) -> list[dict[str, Any]]:
    return [describe(record, with_traceback=actor.is_superuser) for record in plugins.records]


def reload_plugins(*, runtime: Any, actor: User) -> str:
    """Re-import the data-folder plugins (`runtime` is vcore_app.runtime.Runtime); the sentence to show."""
    if not actor.is_superuser:
        raise AppError("This needs a superuser", 403)
    message: str = runtime.reload_plugins()
    audit.record_now(runtime.engine, action="plugins.reload", target=message[:200], actor=actor.username)
    return message
