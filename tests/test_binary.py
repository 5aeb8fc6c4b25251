"""The built binary `dist/vcore-app` behaves like the source: run as a real process on tmp data folders.

Skipped when the binary is not built; `make test` builds it when missing or older than the code, and
`.ci/run` builds it first, so CI runs these.

The smoke test (issue 6) logs in, runs a command job, a built-in script job (a child process of
the binary itself) and a plugin script job to `done`, fetches the dashboard and static CSS, creates a
user with the frozen CLI, and stops with SIGTERM -> exit 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.apps import RunningApp, app_env
from tests.support.cli import opened_urls, recording_browser, run_cli
from tests.support.machine import BINARY, group
from tests.support.waiting import wait_for
from tests.test_data_folder_private import loose_entries
from vcore_app import __version__
from vcore_app.instance import LOCK_FILE, read_holder

pytestmark = [
    pytest.mark.binary,
    pytest.mark.skipif(not group("binary").present(), reason=group("binary").skip_reason),
]


def run_binary(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, env=app_env(), cwd=cwd, timeout=60)


def test_version_and_settings_help_are_those_of_the_source(tmp_path: Path) -> None:
    assert run_binary("--version", cwd=tmp_path).stdout.strip() == f"vcore-app {__version__}"
    frozen = run_binary("--help-settings", cwd=tmp_path)
    assert frozen.returncode == 0
    assert frozen.stdout == run_cli("--help-settings", cwd=tmp_path).stdout


def test_it_migrates_on_start_serves_healthz_and_stops_on_sigterm_with_0(
    tmp_path: Path, launch: Callable[..., RunningApp]
) -> None:
    app = launch(tmp_path / "data", program=(str(BINARY),))
    body = app.http.get("/healthz").json()
    assert body["status"] == "ok" and body["version"] == __version__
    python_child = psutil.Process(app.proc.pid).children()[0]  # one-file: the bootloader runs Python as a child
    unpacked = Path(python_child.environ().get("_PYI_APPLICATION_HOME_DIR", "")) or None
    assert app.stop(signal.SIGTERM) == 0
    output = app.output()
    assert "Traceback" not in output and "vcore-app stopped" in output
    assert not python_child.is_running()
    if unpacked is not None and unpacked.name.startswith("_MEI"):
        assert not unpacked.exists(), "the one-file bootloader cleans up its unpacked folder"
    current = run_binary("db", "current", "--data-dir", str(app.data_dir), cwd=tmp_path)
    assert current.returncode == 0 and "(head)" in current.stdout
    assert loose_entries(app.data_dir) == []  # the data folder is private in the binary too (private.py)


def test_db_commands_work_frozen(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    assert run_binary("db", "upgrade", "--data-dir", data, cwd=tmp_path).returncode == 0
    assert "(head)" in run_binary("db", "current", "--data-dir", data, cwd=tmp_path).stdout
    assert "0001" in run_binary("db", "history", "--data-dir", data, cwd=tmp_path).stdout


def test_a_bad_setting_is_one_line_and_exit_2_frozen_too(tmp_path: Path) -> None:
    result = run_binary("--port", "abc", "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: SERVER_PORT='abc': ")


def test_the_archive_holds_assets_migrations_and_bootstrap(tmp_path: Path) -> None:
    viewer = Path(sys.executable).parent / "pyi-archive_viewer"
    if not viewer.exists():
        pytest.skip("pyi-archive_viewer (PyInstaller) is not installed in this venv")
    listing = subprocess.run(
        [viewer, "--brief", "--recursive", BINARY], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    repo = BINARY.parent.parent
    for name in (
        "migrations/env.py",
        "migrations/script.py.mako",
        "bootstrap/css/bootstrap.min.css",
        "bootstrap/js/bootstrap.bundle.min.js",
        "bootstrap/LICENSE",
        *(f"migrations/versions/{p.name}" for p in (repo / "migrations" / "versions").glob("*.py")),
        *(str(p.relative_to(repo)) for p in (repo / "assets").rglob("*") if p.is_file()),
    ):
        assert name in listing, name


@pytest.mark.xdist_group("port-5000")  # starts on 5000, the default port: one such test at a time
def test_a_double_click_starts_opens_the_browser_and_a_second_one_reopens_it(tmp_path: Path) -> None:
    """No arguments and no terminal, as a file manager starts it; the data folder comes from the env."""
    browser_env, urls = recording_browser(tmp_path)
    data = tmp_path / "data"
    env = app_env(VCORE_DATA_DIR=str(data), **browser_env)
    with open(tmp_path / "console.log", "w") as console:
        proc = subprocess.Popen(
            [str(BINARY)], stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT, env=env, cwd=tmp_path
        )
    try:
        [setup] = wait_for(lambda: opened_urls(urls), timeout=60)
        url = read_holder(data / LOCK_FILE).url
        # no user yet: the first start opens the one-time setup page of the instance it started
        assert url.startswith("http://127.0.0.1:") and setup.startswith(f"{url}/setup?token=")
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        browser_env_seen = dict(
            line.split("=", 1) for line in (tmp_path / "browser-env.txt").read_text().splitlines() if "=" in line
        )
        assert "_MEI" not in browser_env_seen.get("LD_LIBRARY_PATH", ""), "the browser got the bundle's libraries"
        second = subprocess.run(
            [str(BINARY)], stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
        )
        assert second.returncode == 0, second.stderr
        assert opened_urls(urls) == [setup, url]
        assert f"listening on {url}" in (data / "logs" / "vcore.log").read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert os.path.getsize(data / LOCK_FILE) == 0


PLUGIN = """
from pydantic import BaseModel

from vcore_app.scripts.base import Script


class Greet(Script):
    name = "greet"
    description = "A plugin script from DATA_DIR/plugins."

    class Input(BaseModel):
        who: str = "world"

    def run(self, input, ctx):
        print(f"hello {input.who} from a plugin")
        return {"greeted": input.who}
"""


def _wait_done(app: RunningApp, headers: dict[str, str], job_id: int) -> dict:  # type: ignore[type-arg]
    def finished() -> dict | None:  # type: ignore[type-arg]
        job = app.http.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        return job if job["status"] in ("done", "failed", "cancelled") else None

    job = wait_for(finished, timeout=60)
    assert job["status"] == "done", job
    return job


def test_the_binary_logs_in_runs_all_job_kinds_serves_the_ui_and_stops_cleanly(
    tmp_path: Path, launch: Callable[..., RunningApp]
) -> None:
    data = tmp_path / "data"
    (data / "plugins").mkdir(parents=True)
    (data / "plugins" / "greet.py").write_text(PLUGIN)
    env = app_env(
        FIRST_SUPERUSER_USERNAME="admin",
        FIRST_SUPERUSER_EMAIL="admin@example.com",
        FIRST_SUPERUSER_PASSWORD="admin-password-1",
    )
    app = launch(data, program=(str(BINARY),), env=env)
    token = app.http.post(
        "/api/v1/login/access-token", data={"username": "admin", "password": "admin-password-1"}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    command = app.http.post("/api/v1/jobs", json={"type": "command", "command": "echo hello"}, headers=headers).json()
    _wait_done(app, headers, command["id"])
    assert "hello" in app.http.get(f"/api/v1/jobs/{command['id']}/log", headers=headers).text

    script = app.http.post(
        "/api/v1/jobs", json={"type": "script", "script": "disk_usage", "input": {"path": str(data)}}, headers=headers
    ).json()
    assert _wait_done(app, headers, script["id"])["result"]

    plugin = app.http.post(
        "/api/v1/jobs", json={"type": "script", "script": "greet", "input": {"who": "binary"}}, headers=headers
    ).json()
    assert _wait_done(app, headers, plugin["id"])["result"]["output"] == {"greeted": "binary"}
    assert "hello binary from a plugin" in app.http.get(f"/api/v1/jobs/{plugin['id']}/log", headers=headers).text

    dashboard = app.http.get("/", headers={**headers, "accept": "text/html"})
    assert dashboard.status_code == 200 and "navbar" in dashboard.text
    for css in ("/static/css/app.css", "/static/vendor/bootstrap/css/bootstrap.min.css"):
        response = app.http.get(css)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")

    assert app.stop() == 0
    assert "Traceback" not in app.output()
    created = subprocess.run(
        [
            str(BINARY),
            "users",
            "create",
            "--data-dir",
            str(data),
            "--username",
            "bob",
            "--email",
            "bob@example.com",
            "--password-stdin",
        ],
        input="bob-password-1\n",
        capture_output=True,
        text=True,
        env=app_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    listed = run_binary("users", "list", "--data-dir", str(data), cwd=tmp_path)
    assert "bob" in listed.stdout and "admin" in listed.stdout


def test_the_binary_loads_the_example_plugin_from_its_data_folder_and_scaffolds_one(
    tmp_path: Path, launch: Callable[..., RunningApp]
) -> None:
    from tests.test_plugin_example import install_example

    data = tmp_path / "data"
    install_example(data)
    made = run_binary("new", "tool", "shout", "--data-dir", str(data), cwd=tmp_path)  # skeletons are bundled
    assert made.returncode == 0, made.stderr
    env = app_env(
        FIRST_SUPERUSER_USERNAME="admin",
        FIRST_SUPERUSER_EMAIL="admin@example.com",
        FIRST_SUPERUSER_PASSWORD="admin-password-1",
    )
    app = launch(data, program=(str(BINARY),), env=env)
    token = app.http.post(
        "/api/v1/login/access-token", data={"username": "admin", "password": "admin-password-1"}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    plugins = {p["name"]: p for p in app.http.get("/api/v1/plugins", headers=headers).json()["items"]}
    assert plugins["vcore_example"]["ok"] and plugins["shout"]["ok"], plugins
    counted = app.http.post("/api/v1/tools/example-word-count", json={"text": "a b"}, headers=headers).json()
    assert counted["result"] == {"words": 2, "lines": 1}
    cleaned = app.http.post("/api/v1/tools/html-sanitize", json={"html": "<b onclick=x()>y</b>"}, headers=headers)
    assert cleaned.json()["result"]["after"] == "<b>y</b>"  # nh3's compiled extension is bundled
    job = app.http.post("/api/v1/scripts/example-squares/run", json={"input": {"n": 3}}, headers=headers).json()
    assert _wait_done(app, headers, job["id"])["result"]["output"]["records"][-1] == {"n": 3, "square": 9}
    assert app.stop() == 0
