"""Migrations the way alembic users run them from a checkout (`alembic upgrade head`, `downgrade
-1`, `revision --autogenerate`), and `vcore-app db revision`, numbering new files after the head."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.apps import app_env
from vcore_app.paths import migrations_dir

REPO = Path(__file__).resolve().parents[1]


def checkout_copy(tmp_path: Path) -> Path:
    """alembic.ini and migrations/ copied, so a new revision lands in tmp, not in the repo."""
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copy(REPO / "alembic.ini", root)
    shutil.copytree(migrations_dir(), root / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def run(root: Path, *args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*args], cwd=root, capture_output=True, text=True, timeout=120, env=app_env(VCORE_DATA_DIR=str(data))
    )


def head_of(root: Path, data: Path) -> str:
    return run(root, sys.executable, "-m", "alembic", "current", data=data).stdout.split()[0]


def test_alembic_from_a_checkout_upgrades_downgrades_and_autogenerates_a_numbered_revision(tmp_path: Path) -> None:
    root, data = checkout_copy(tmp_path), tmp_path / "data"
    newest = max(path.name[:4] for path in (root / "migrations" / "versions").glob("[0-9]*.py"))
    alembic = (sys.executable, "-m", "alembic")
    assert run(root, *alembic, "upgrade", "head", data=data).returncode == 0
    assert (data / "vcore.sqlite3").exists()  # the database vcore-app itself opens for this data folder
    assert head_of(root, data) == newest
    assert run(root, *alembic, "downgrade", "-1", data=data).returncode == 0
    assert head_of(root, data) == f"{int(newest) - 1:04d}"
    assert run(root, *alembic, "upgrade", "head", data=data).returncode == 0
    made = run(root, *alembic, "revision", "--autogenerate", "-m", "add a thing", data=data)
    assert made.returncode == 0, made.stderr
    new = root / "migrations" / "versions" / f"{int(newest) + 1:04d}_add_a_thing.py"
    text = new.read_text()
    assert f"revision = '{int(newest) + 1:04d}'" in text and f"down_revision = '{newest}'" in text
    assert "op.create_table" not in text and "op.add_column" not in text  # the models match head


def test_vcore_app_db_revision_writes_the_next_numbered_migration(tmp_path: Path) -> None:
    root, data = checkout_copy(tmp_path), tmp_path / "data"
    newest = max(path.name[:4] for path in (root / "migrations" / "versions").glob("[0-9]*.py"))
    # The CLI pointed at the copied migrations folder, so the new file lands in tmp, not in the repo.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys, vcore_app.paths as p; from pathlib import Path; "
                f"p.migrations_dir = lambda: Path({str(root / 'migrations')!r}); "
                "from vcore_app.cli import main; sys.argv = ['vcore-app', *sys.argv[1:]]; main()"
            ),
            "db",
            "revision",
            "--data-dir",
            str(data),
            "-m",
            "Second thing",
            "--empty",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env=app_env(),
    )
    assert result.returncode == 0, result.stderr
    new = root / "migrations" / "versions" / f"{int(newest) + 1:04d}_second_thing.py"
    assert f"wrote {new}" in result.stdout and new.exists()
