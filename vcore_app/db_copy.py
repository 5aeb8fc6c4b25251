"""`vcore-app db copy --to postgresql://...`: an installation's ledger moved into an empty PostgreSQL
database, for the day one box is not enough (issue 20).

The app must be stopped (the data folder's instance lock is taken, as restore does): a write after the
copy began would be missing from it. The source is migrated to head first and the target to the same
head, so both have one schema; then every table is copied in foreign-key order, in batches, all in one
transaction of the target: a failure leaves it as empty as it was. The target's id sequences are then
set past the copied ids, or the first new row would collide with a copied one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import SQLModel

import vcore_app.models
import vcore_app.notify.models  # noqa: F401  (their tables are in SQLModel.metadata)
from vcore_app import db
from vcore_app.instance import AlreadyRunning, InstanceLock
from vcore_app.settings import Settings, database_url

BATCH = 1000
# Which nodes run now and which holds the scheduler lease (issue 20): the state of running processes,
# not of the ledger. The target's migration makes its own lease row.
NOT_COPIED = frozenset({"worker", "lease"})


class CopyError(Exception):
    """One line for the user: why nothing was copied."""


@dataclass(frozen=True)
class Copied:
    target: str  # the URL without its password
    rows: dict[str, int]  # per table, in the order copied


def copy_database(*, settings: Settings, to: str, batch: int = BATCH) -> Copied:
    """Copy the database of `settings` (DB_URL) into the empty PostgreSQL database `to`."""
    target_url = _target_url(to)
    shown = db.shown_url(target_url)
    try:
        lock = InstanceLock.acquire(settings.DATA_DIR)
    except AlreadyRunning as running:
        raise CopyError(
            f"vcore-app is running on {settings.DATA_DIR} (pid {running.holder.pid}); stop it before copying"
        ) from None
    target = db.make_engine(target_url)
    try:
        _refuse_unless_empty(target, shown)
        db.migrate(settings.DB_URL)
        db.migrate(target_url)
        source = db.engine_for(settings)
        try:
            rows = _copy_tables(source, target, batch)
        finally:
            source.dispose()
    finally:
        target.dispose()
        lock.release()
    return Copied(target=shown, rows=rows)


def _target_url(to: str) -> str:
    try:
        url = database_url(to)
        make_url(url)
    except (ValueError, ArgumentError) as exc:
        raise CopyError(f"--to='{to}': {exc}") from None
    if not db.is_postgresql(url):
        raise CopyError(f"--to='{to}': expected an empty PostgreSQL database, postgresql://user@host/name")
    return url


def _refuse_unless_empty(target: Engine, shown: str) -> None:
    """Nothing of ours may be in the target: tables without rows (a migrated, empty database) are fine."""
    try:
        with target.connect() as conn:
            present = set(inspect(conn).get_table_names())
            for table in _copied_tables():
                if table.name in present and conn.execute(select(func.count()).select_from(table)).scalar():
                    raise CopyError(f"{shown} is not empty (table {table.name} has rows); copy into an empty database")
    except OperationalError as exc:
        raise CopyError(f"cannot connect to {shown}: {db.first_line(exc)}") from None


def _copy_tables(source: Engine, target: Engine, batch: int) -> dict[str, int]:
    rows: dict[str, int] = {}
    with db.session(source, readonly=True) as reading, target.begin() as writing:
        for table in _copied_tables():  # parents before the rows that point at them
            result = (
                reading.connection()
                .execution_options(yield_per=batch)
                .execute(select(table).order_by(*table.primary_key.columns))
            )
            rows[table.name] = 0
            for chunk in result.mappings().partitions():
                writing.execute(table.insert(), [dict(row) for row in chunk])
                rows[table.name] += len(chunk)
        for table in _copied_tables():
            _reset_sequence(writing, table)
    return rows


def _copied_tables() -> list[Table]:
    return [table for table in SQLModel.metadata.sorted_tables if table.name not in NOT_COPIED]


def _reset_sequence(conn: Connection, table: Table) -> None:
    """The next id of a serial column is past the largest copied (1 for an empty table)."""
    column = table.autoincrement_column
    if column is None:
        return
    quoted = f'"{table.name}"'
    statement = text(
        f"SELECT setval(pg_get_serial_sequence(:table, :column), coalesce(max({column.name}), 1), "
        f"max({column.name}) IS NOT NULL) FROM {quoted}"
    )
    conn.execute(statement, {"table": quoted, "column": column.name})
