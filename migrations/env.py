"""Alembic environment. No fileConfig(): it would disable the uvicorn and huey loggers."""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import vcore_app.models
import vcore_app.notify.models  # noqa: F401

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    """The app's own URL (alembic_config() sets it), `-x db_url=...`, or, for `alembic` run from a
    checkout, the database `vcore-app` would open with the same environment."""
    url = config.get_main_option("sqlalchemy.url") or context.get_x_argument(as_dictionary=True).get("db_url")
    if url:
        return url
    from vcore_app.settings import load_settings

    return load_settings().DB_URL


def _number_revision(_context: object, _revision: object, directives: list[Any]) -> None:
    """Revisions are numbered in order (0006 after 0005), not named by alembic's random ids."""
    head = ScriptDirectory.from_config(config).get_current_head()
    directives[0].rev_id = f"{int(head or 0) + 1:04d}"


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        process_revision_directives=_number_revision,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
