"""Health and system facts, for /healthz and the dashboard."""

from __future__ import annotations

from typing import Any

from vcore_app import __version__, db
from vcore_app.runtime import Runtime


def health(runtime: Runtime) -> dict[str, Any]:
    database_ok = db.ping(runtime.engine)
    return {
        "status": "ok" if database_ok else "degraded",
        "version": __version__,
        "database": "ok" if database_ok else "unavailable",
        "queues": runtime.queues.status(),
    }
