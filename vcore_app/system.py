"""Health and system facts, for /healthz and the dashboard."""

from __future__ import annotations

import os
import time
from typing import Any

import psutil

from vcore_app import __version__, db
from vcore_app.runtime import Runtime


def health(runtime: Runtime) -> dict[str, Any]:
    """`status` is `degraded` with the `reasons` while the database does not answer or the data disk
    is full (issue 19); a low disk is a warning in `disk` only."""
    database_ok = db.ping(runtime.engine)
    disk = runtime.disk.status
    reasons = ([] if database_ok else ["database does not answer"]) + ([disk.reason] if disk.level == "full" else [])
    return {
        "status": "degraded" if reasons else "ok",
        "reasons": [reason for reason in reasons if reason],
        "version": __version__,
        "database": "ok" if database_ok else "unavailable",
        "disk": {"level": disk.level, "free_mb": round(disk.free_mb, 1), "reason": disk.reason},
        "queues": runtime.queues.status(),
    }


def snapshot(runtime: Runtime) -> dict[str, Any]:
    """What the dashboard shows of the machine and of this process."""
    process = psutil.Process()
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(str(runtime.settings.DATA_DIR))
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu_percent": psutil.cpu_percent(interval=None),
        "cpu_count": psutil.cpu_count() or 1,
        "memory_percent": memory.percent,
        "memory_used": memory.used,
        "memory_total": memory.total,
        "disk_percent": disk.percent,
        "disk_free": disk.free,
        "disk_total": disk.total,
        "load": [round(value, 2) for value in load],
        "system_uptime_seconds": int(time.time() - psutil.boot_time()),
        "app_uptime_seconds": int(time.time() - runtime.started_at),
        "app_rss": process.memory_info().rss,
        "data_dir": str(runtime.settings.DATA_DIR),
    }
