"""Logging: loguru to stderr and DATA_DIR/logs/vcore.log; std-logging (uvicorn, huey, alembic) routed in."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

from loguru import logger

_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {extra[source]: <16} | {message}"
# uvicorn logs WebSocket handshakes with their query string, and WebSocket clients pass `?token=`.
_SECRET_QUERY = re.compile(r"([?&](?:token|access_token|api_key|key)=)[^&\s\"']+", re.IGNORECASE)


def redact(message: str) -> str:
    """Hide credentials passed in URLs: secrets never reach the logs."""
    return _SECRET_QUERY.sub(r"\1***", message)


class InterceptHandler(logging.Handler):
    """Hand std-logging records to loguru, keeping the caller and the logger name."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        # Compare module names, not file names: file names differ in a frozen binary.
        frame, depth = logging.currentframe(), 2
        while frame and frame.f_globals.get("__name__") == "logging":
            frame, depth = frame.f_back, depth + 1
        logger.opt(depth=depth, exception=record.exc_info).bind(source=record.name).log(level, redact(record.getMessage()))


def setup_logging(*, level: str, log_file: Path | None, rotation: str = "10 MB", retention: str = "14 days") -> None:
    logger.remove()
    logger.configure(extra={"source": "vcore"})
    logger.add(sys.stderr, level=level, format=_FORMAT, backtrace=False, diagnose=False)
    if log_file is not None:
        logger.add(
            log_file, level=level, format=_FORMAT, rotation=rotation, retention=retention,
            enqueue=True, backtrace=False, diagnose=False, encoding="utf-8",
        )
    logging.basicConfig(handlers=[InterceptHandler()], level=0, force=True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "huey", "alembic", "sqlalchemy.engine"):
        std = logging.getLogger(name)
        std.handlers = []
        std.propagate = True
    # Alembic logs each migration at INFO; SQL echo is controlled by DATABASE_ECHO, not the level.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
