"""The app database: engine with SQLite pragmas (or a PostgreSQL pool), sessions, and migrations from code.

Writers must start with `BEGIN IMMEDIATE`: measured on this stack, pysqlite's implicit transactions
lost updates and SQLAlchemy's deferred BEGIN hit "database is locked" under concurrent writers
(docs/design.md, "Measured traps"). Read-only sessions keep a deferred BEGIN so they never wait for a writer.

On PostgreSQL (issue 20) none of that applies: row locks and READ COMMITTED make the guarded
`UPDATE ... WHERE status = ...` of jobs/service.py pick one winner, and writers need no queue of ours.
Every connection there uses the time zone UTC, so a timestamp read back, or computed by the server
(min(), now()), is UTC as the app stores it, whatever the server's own time zone is.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
from alembic import command
from alembic.config import Config
from loguru import logger
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from vcore_app.paths import migrations_dir
from vcore_app.settings import SettingsError

if TYPE_CHECKING:
    from vcore_app.settings import Settings

T = TypeVar("T")

_READONLY = "vcore_readonly"
# What SQLITE_SYNCHRONOUS may say (settings.py): in WAL mode, NORMAL loses no commit to a crash of the
# app, only to a power loss; FULL syncs the WAL on every commit and keeps them through a power loss too.
_SYNCHRONOUS = ("NORMAL", "FULL")
_ON_COMMIT = "vcore_on_commit"
# One writer at a time per engine, queued in Python. SQLite's busy handler makes a blocked writer
# sleep in growing steps (up to 100 ms) instead of waking it when the lock frees: with the API and
# four workers writing at once, a burst of jobs ran at a tenth of Huey's speed. A thread lock hands
# the write lock over at once; busy_timeout still covers writers in other processes (the CLI).
_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


_POOL_SIZE, _POOL_OVERFLOW = 48, 16


def make_engine(
    url: str,
    *,
    echo: bool = False,
    synchronous: str = "NORMAL",
    pool_size: int = 10,
    max_overflow: int = 20,
    pool_timeout: float = 30.0,
) -> Engine:
    """An engine whose SQLite connections all get our pragmas; `synchronous` is the
    SQLITE_SYNCHRONOUS setting (NORMAL or FULL). The pool arguments are for a server database
    (DB_POOL_SIZE, ...); SQLite keeps the sizes measured for it."""
    if synchronous not in _SYNCHRONOUS:
        raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {', '.join(_SYNCHRONOUS)}, not {synchronous!r}")
    sqlite = is_sqlite(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if is_postgresql(url):
        # pre-ping: a node outlives a restart or failover of the server; a dead pooled connection is
        # replaced before a request gets it, for one round trip per checkout.
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout, pool_pre_ping=True)
        kwargs["connect_args"] = {"options": "-c timezone=UTC"}
    if sqlite:
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        kwargs["isolation_level"] = None  # we issue BEGIN ourselves, below
        # Sized to the threads that use it: AnyIO's 40 worker threads (in_db) plus the job workers.
        # SQLAlchemy's default (5 + 10 overflow) opened and closed a connection, with its pragmas,
        # on most requests of a burst (issue 13).
        kwargs["pool_size"], kwargs["max_overflow"] = _POOL_SIZE, _POOL_OVERFLOW
    engine = create_engine(url, **kwargs)
    if sqlite:
        event.listen(engine, "connect", partial(_sqlite_pragmas, synchronous=synchronous))
        event.listen(engine, "begin", _sqlite_begin)
        _WRITE_LOCKS[engine] = threading.RLock()
    return engine


def engine_for(settings: Settings) -> Engine:
    """The engine of the app database that `settings` name, with their SQLite mode or pool sizes."""
    return make_engine(
        settings.DB_URL,
        echo=settings.DATABASE_ECHO,
        synchronous=settings.SQLITE_SYNCHRONOUS,
        pool_size=settings.DB_POOL_SIZE,
        max_overflow=settings.DB_MAX_OVERFLOW,
        pool_timeout=settings.DB_POOL_TIMEOUT,
    )


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def is_postgresql(url: str) -> bool:
    return url.startswith("postgresql")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, synchronous: str) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", f"synchronous={synchronous}", "busy_timeout=30000", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    readonly = connection.get_execution_options().get(_READONLY, False)
    connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


@contextmanager
def session(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """A short transaction: commits on success, rolls back on error. Never hold one across I/O."""
    bind = engine.execution_options(**{_READONLY: True}) if readonly else engine
    lock = nullcontext() if readonly else _WRITE_LOCKS.get(engine, nullcontext())
    with lock, Session(bind, expire_on_commit=False) as db:
        try:
            yield db
            if not readonly:
                db.commit()
        except BaseException:
            db.rollback()
            raise


def exclusive(engine: Engine) -> threading.RLock | nullcontext[None]:
    """This engine's writer lock, for work that must not overlap any write of ours and cannot run
    in a transaction (VACUUM, the online backup): our writers queue behind it. (issue 17)"""
    return _WRITE_LOCKS.get(engine, nullcontext())


async def run(engine: Engine, work: Callable[[Session], T], *, readonly: bool = False) -> T:
    """`work(session)` in its own short transaction on a worker thread, so a handler awaiting it
    never blocks the event loop on SQLite (or on argon2 inside it)."""

    def call() -> T:
        with session(engine, readonly=readonly) as db:
            return work(db)

    return await anyio.to_thread.run_sync(call)


def on_commit(db: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once this session's transaction has committed; never if it rolls back.

    For work that must only see committed rows: enqueueing a job id for a worker thread (which would
    otherwise find no row, or an old one) and telling WebSocket clients about a change.
    """
    db.info.setdefault(_ON_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_on_commit(db: Session) -> None:
    for callback in db.info.pop(_ON_COMMIT, []):
        try:
            callback()
        except Exception:
            logger.exception("after-commit callback {!r} failed", callback)


@event.listens_for(Session, "after_rollback")
def _drop_on_commit(db: Session) -> None:
    db.info.pop(_ON_COMMIT, None)


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    # As in the checkout's alembic.ini: revisions run env.py, which numbers them (0006_slug.py).
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.set_main_option("revision_environment", "true")
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """`alembic upgrade head` from code: idempotent, runs before anything listens."""
    with reaching(url):
        command.upgrade(alembic_config(url), revision)


@contextmanager
def reaching(url: str) -> Iterator[None]:
    """Work on the database at `url`: a PostgreSQL server that cannot be reached (down, wrong password,
    no such database) is a SettingsError, one line naming DB_URL without its password, not a traceback."""
    try:
        yield
    except OperationalError as exc:
        if not is_postgresql(url):
            raise
        raise SettingsError(f"DB_URL='{shown_url(url)}': cannot connect ({first_line(exc)})") from None


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def first_line(exc: DBAPIError) -> str:
    """What the driver said, without SQLAlchemy's statement and link."""
    return str(exc.orig or exc).strip().splitlines()[0]
