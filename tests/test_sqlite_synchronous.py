"""SQLITE_SYNCHRONOUS reaches every connection of the app's engine (issue 19; db.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.apps import make_settings
from vcore_app.runtime import Runtime


@pytest.mark.parametrize(("setting", "expected"), [("NORMAL", 1), ("FULL", 2), ("full", 2)])
def test_every_connection_gets_the_synchronous_mode_of_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, expected: int
) -> None:
    settings = make_settings(tmp_path, monkeypatch, SQLITE_SYNCHRONOUS=setting)
    runtime = Runtime(settings)
    try:
        connections = [runtime.engine.raw_connection() for _ in range(2)]  # two, so not one cached
        for conn in connections:
            assert conn.cursor().execute("PRAGMA synchronous").fetchone()[0] == expected
            conn.close()
    finally:
        runtime.engine.dispose()
        runtime.queues.close()


def test_normal_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_settings(tmp_path, monkeypatch).SQLITE_SYNCHRONOUS == "NORMAL"
