"""Migrations: up from empty, down to base, up again; and the models agree with them. On SQLite and on
a fresh, empty PostgreSQL database (the other tests get theirs from a migrated template)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

import vcore_app.models
import vcore_app.notify.models  # noqa: F401
from tests.support.postgres import PostgresServer
from vcore_app.db import alembic_config, make_engine, migrate


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: never migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    created = server.create_database(migrated=False)
    yield created
    server.drop_database(created)


def test_upgrade_downgrade_upgrade_round_trip(url: str) -> None:
    engine = make_engine(url)
    migrate(url)
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    command.downgrade(alembic_config(url), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    migrate(url)
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_models_and_the_migrations_agree(url: str) -> None:
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"render_as_batch": True}), SQLModel.metadata)
    engine.dispose()
    assert diff == [], f"models differ from migrations; generate a migration: {diff}"


def test_migrating_twice_is_a_no_op(url: str) -> None:
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO boot (id, started_at, version, pid) VALUES ('b1', '2026-01-01 00:00:00', '0', 1)"
        )
    migrate(url)
    with engine.connect() as conn:
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        assert MigrationContext.configure(conn).get_current_revision() == head
        assert conn.exec_driver_sql("SELECT count(*) FROM boot").scalar() == 1  # data kept
    engine.dispose()
