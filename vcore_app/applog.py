"""Logging: loguru to stderr and DATA_DIR/logs/vcore.log; std-logging (uvicorn, huey, alembic) routed in.
And reading that file back for the log viewer (`read_app_log`): its tail, then what was added since."""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from loguru import logger

from vcore_app.filetail import read_range

_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {extra[source]: <16} | {message}"
# uvicorn logs WebSocket handshakes with their query string, and WebSocket clients pass `?token=`.
_SECRET_QUERY = re.compile(r"([?&](?:token|access_token|api_key|key)=)[^&\s\"']+", re.IGNORECASE)
# The Telegram Bot API takes the bot token in the path (/bot<id>:<secret>/sendMessage), and httpx logs
# every request URL at INFO (notify/channels.py).
_BOT_TOKEN_PATH = re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+")


def redact(message: str) -> str:
    """Hide credentials passed in URLs: secrets never reach the logs."""
    return _BOT_TOKEN_PATH.sub(r"\1***", _SECRET_QUERY.sub(r"\1***", message))


class InterceptHandler(logging.Handler):
    """Hand std-logging records to loguru, keeping the caller and the logger name."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        # Compare module names, not file names: file names differ in a frozen binary.
        frame: FrameType | None = logging.currentframe()
        depth = 2
        while frame and frame.f_globals.get("__name__") == "logging":
            frame, depth = frame.f_back, depth + 1
        logger.opt(depth=depth, exception=record.exc_info).bind(source=record.name).log(
            level, redact(record.getMessage())
        )


def setup_logging(*, level: str, log_file: Path | None, rotation: str = "10 MB", retention: str = "14 days") -> None:
    logger.remove()
    logger.configure(extra={"source": "vcore"})
    logger.add(sys.stderr, level=level, format=_FORMAT, backtrace=False, diagnose=False)
    if log_file is not None:
        logger.add(
            log_file,
            level=level,
            format=_FORMAT,
            rotation=rotation,
            retention=retention,
            enqueue=True,
            backtrace=False,
            diagnose=False,
            encoding="utf-8",
        )
    # Std-logging records below the level are never built (issue 13: at level 0 every record of every
    # library was made, handed to loguru and redacted, and only then dropped).
    std_level = logging.getLevelName(level.upper())
    logging.basicConfig(
        handlers=[InterceptHandler()], level=std_level if isinstance(std_level, int) else logging.DEBUG, force=True
    )
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "huey", "alembic", "sqlalchemy.engine"):
        std = logging.getLogger(name)
        std.handlers = []
        std.propagate = True
    # Alembic logs each migration at INFO; SQL echo is controlled by DATABASE_ECHO, not the level.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    # Huey says "Executing ..." and "... executed in" per task at INFO; the runner logs each job itself.
    logging.getLogger("huey").setLevel(max(logging.WARNING, logging.getLogger().level))


@dataclass
class LogChunk:
    """Whole lines of the app log. `reset`: they replace what the reader shows (first read, rotation,
    or the reader fell more than a tail behind) instead of following it. `offset`: where to go on."""

    file_id: str
    offset: int
    lines: list[str]
    reset: bool


def _file_id(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_dev}-{stat.st_ino}"  # rotation renames the file and opens a new one


def read_app_log(path: Path, *, offset: int | None, file_id: str | None, tail_bytes: int) -> LogChunk:
    """The lines after `offset` in the file `file_id`, or the last `tail_bytes` of the log (whole lines).

    A line still being written waits for its newline: the next read returns it whole.
    """
    try:
        current, size = _file_id(path), path.stat().st_size
    except FileNotFoundError:  # before the first line of a fresh data folder
        return LogChunk(file_id="", offset=0, lines=[], reset=True)
    if offset is None or file_id != current or offset > size or size - offset > tail_bytes:
        reset, start = True, max(size - tail_bytes, 0)
    else:
        reset, start = False, offset
    data = b"".join(read_range(path, start, size))
    if reset and start > 0:
        data = data[data.find(b"\n") + 1 :]  # the tail starts at the first whole line
        start = size - len(data)
    whole = data[: data.rfind(b"\n") + 1]
    return LogChunk(
        file_id=current,
        offset=start + len(whole),
        lines=whole.decode("utf-8", errors="replace").splitlines(),
        reset=reset,
    )
