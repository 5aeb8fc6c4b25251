"""`vcore-app new tool|script|plugin NAME [--package]`: skeletons that work as written."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, app_env, make_settings
from tests.support.auth import login
from tests.support.waiting import wait_for
from vcore_app.app import create_app


def vcore(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vcore_app", *args], capture_output=True, text=True, cwd=cwd, env=app_env(), timeout=120
    )


def test_the_three_skeletons_load_and_work_in_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    for kind, name in (("plugin", "hello-world"), ("tool", "shout"), ("script", "count-up")):
        made = vcore("new", kind, name, "--data-dir", str(data), cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        assert "picks it up at its next start" in made.stdout
    assert (data / "plugins" / "shout.py").stat().st_mode & 0o777 == 0o600

    with TestClient(create_app(make_settings(tmp_path, monkeypatch))) as client:
        admin = login(client, ADMIN["username"], ADMIN["password"])
        plugins = {p["name"]: p for p in client.get("/api/v1/plugins", headers=admin).json()["items"]}
        assert all(plugins[name]["ok"] for name in ("hello_world", "shout", "count_up")), plugins
        page = client.get("/hello-world", headers={**admin, "accept": "text/html"}).text
        assert 'id="hello_world-greeting">Hello, admin.' in page and 'href="/hello-world">Hello world</a>' in page
        assert client.get("/api/v1/hello-world", headers=admin).json() == {"plugin": "hello-world", "user": "admin"}
        shouted = client.post("/api/v1/tools/shout", json={"text": "abc"}, headers=admin).json()
        assert shouted["result"] == {"characters": 3, "reversed": "cba"}
        empty = client.post("/api/v1/tools/shout", json={"text": " "}, headers=admin)
        assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "text"]
        job = client.post("/api/v1/scripts/count-up/run", json={"input": {"count": 2}}, headers=admin).json()
        done = wait_for(
            lambda: (
                (j := client.get(f"/api/v1/jobs/{job['id']}", headers=admin).json())["status"] in ("done", "failed")
                and j
            ),
            timeout=60,
        )
        assert done["status"] == "done", done
        assert done["result"]["output"]["records"] == [{"row": 1, "double": 2}, {"row": 2, "double": 4}]

        assert vcore("new", "tool", "later", "--data-dir", str(data), cwd=tmp_path).returncode == 0
        client.post("/api/v1/plugins/reload", headers=admin)
        assert client.post("/api/v1/tools/later", json={"text": "x"}, headers=admin).status_code == 200


def test_a_package_skeleton_has_its_entry_point_and_a_passing_test(tmp_path: Path) -> None:
    made = vcore("new", "tool", "my-tool", "--package", str(tmp_path / "src"), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    root = tmp_path / "src" / "my-tool"
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["vcore_app"] == {"my_tool": "my_tool"}
    assert "def register_quick_tools()" in (root / "my_tool" / "__init__.py").read_text()
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed" in tested.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("new", "tool", "Bad Name"), "error: NAME='Bad Name': use lower-case letters"),
        (("new", "widget", "x"), "Invalid value for '{tool|script|plugin}'"),
    ],
)
def test_a_bad_name_or_kind_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = vcore(*args, "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert vcore("new", "script", "once", "--data-dir", str(data), cwd=tmp_path).returncode == 0
    (data / "plugins" / "once.py").write_text("# mine\n")
    again = vcore("new", "script", "once", "--data-dir", str(data), cwd=tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr
    assert (data / "plugins" / "once.py").read_text() == "# mine\n"
