"""docs/plugins.md's example plugin (examples/vcore-example-plugin), copied into a data folder and
exercised part by part in a running app: page, API route, script with progress and a table, Quick
Tool with its own template, startup hook, job hooks, setting, command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env, start_app
from tests.support.waiting import wait_for
from vcore_app.scripts.base import PROGRESS_PREFIX

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vcore-example-plugin" / "vcore_example"
HTML = {"accept": "text/html"}


def install_example(data_dir: Path) -> None:
    (data_dir / "plugins").mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copytree(EXAMPLE, data_dir / "plugins" / "vcore_example", ignore=shutil.ignore_patterns("__pycache__"))


@pytest.fixture(scope="module")
def example_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    data = tmp_path_factory.mktemp("example") / "data"
    install_example(data)
    app = start_app(
        data,
        env=app_env(
            **ADMIN_ENV,
            EXAMPLE_GREETING="Howdy",
        ),
    )
    yield app
    app.stop()


@pytest.fixture(scope="module")
def admin(example_app: RunningApp) -> dict[str, str]:
    token = example_app.http.post(
        "/api/v1/login/access-token", data={"username": ADMIN["username"], "password": ADMIN["password"]}
    ).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def wait_job(app: RunningApp, headers: dict[str, str], job_id: int) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        job: dict[str, Any] = app.http.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        return job if job["status"] in ("done", "failed", "cancelled") else None

    return wait_for(finished, timeout=60)


def test_the_example_is_listed_as_loaded_with_every_hook_it_implements(
    example_app: RunningApp, admin: dict[str, str]
) -> None:
    items = example_app.http.get("/api/v1/plugins", headers=admin).json()["items"]
    example = next(item for item in items if item["name"] == "vcore_example")
    assert example["ok"] and example["origin"] == "data folder", example
    assert set(example["hooks"]) == {
        "register_routes",
        "register_nav_items",
        "register_templates",
        "register_static",
        "register_scripts",
        "register_quick_tools",
        "register_commands",
        "extra_settings",
        "on_startup",
        "on_job_finished",
        "prepare_job",
    }


def test_its_page_needs_a_login_and_greets_with_the_plugin_setting(
    example_app: RunningApp, admin: dict[str, str]
) -> None:
    anonymous = httpx.get(f"{example_app.url}/example", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    page = example_app.http.get("/example", headers={**admin, **HTML})
    assert page.status_code == 200
    assert "Howdy, admin" in page.text  # EXAMPLE_GREETING from the environment (extra_settings)
    assert 'href="/example">Example</a>' in page.text  # register_nav_items
    css = httpx.get(f"{example_app.url}/static/plugins/example/example.css")  # register_static
    assert css.status_code == 200 and ".vc-example-title" in css.text


def test_its_api_route_needs_a_login_and_saw_the_startup_hook(example_app: RunningApp, admin: dict[str, str]) -> None:
    assert httpx.get(f"{example_app.url}/api/v1/example/events").status_code == 401
    events = example_app.http.get("/api/v1/example/events", headers=admin).json()
    assert isinstance(events["started_at"], float)


def test_its_script_reports_progress_returns_a_table_and_the_job_hook_hears_of_it(
    example_app: RunningApp, admin: dict[str, str]
) -> None:
    created = example_app.http.post("/api/v1/scripts/example-squares/run", json={"input": {"n": 4}}, headers=admin)
    assert created.status_code == 201, created.text
    job = wait_job(example_app, admin, created.json()["id"])
    assert job["status"] == "done", job
    assert job["result"]["output"] == {
        "kind": "table",
        "x": "n",
        "series": ["square"],
        "records": [{"n": i, "square": i * i} for i in range(1, 5)],
    }
    log = example_app.http.get(f"/api/v1/jobs/{job['id']}/log", headers=admin).text
    progress = [json.loads(line.split(PROGRESS_PREFIX, 1)[1]) for line in log.splitlines() if PROGRESS_PREFIX in line]
    assert [p["percent"] for p in progress] == [25.0, 50.0, 75.0, 100.0]
    page = example_app.http.get(f"/jobs/{job['id']}", headers={**admin, **HTML}).text
    assert 'class="table table-sm table-striped vc-result-table' in page and "<td>16</td>" in page
    finished = wait_for(
        lambda: [
            e
            for e in example_app.http.get("/api/v1/example/events", headers=admin).json()["finished_jobs"]
            if e["id"] == job["id"]
        ]
    )
    assert finished == [{"id": job["id"], "status": "done"}]


def test_its_prepare_job_hook_refuses_a_job_with_its_reason(example_app: RunningApp, admin: dict[str, str]) -> None:
    refused = example_app.http.post(
        "/api/v1/jobs",
        headers=admin,
        json={"type": "script", "script": "example-squares", "name": "forbidden job", "input": {"n": 1}},
    )
    assert refused.status_code == 422
    assert "job names starting with 'forbidden' are not allowed (plugin vcore_example)" in refused.json()["detail"]


def test_its_quick_tool_renders_with_its_own_template_and_has_an_api_twin(
    example_app: RunningApp, admin: dict[str, str]
) -> None:
    page = example_app.http.post(
        "/tools/example-word-count", data={"text": "one two\nthree"}, headers={**admin, **HTML}
    )
    assert page.status_code == 200
    assert (
        '<p class="mb-0" id="word-count-result"><strong>3</strong> words on <strong>2</strong> lines</p>' in page.text
    )
    api = example_app.http.post("/api/v1/tools/example-word-count", json={"text": "one two\nthree"}, headers=admin)
    assert api.json() == {"tool": "example-word-count", "result": {"words": 3, "lines": 2}}
    empty = example_app.http.post("/api/v1/tools/example-word-count", json={"text": "  "}, headers=admin)
    assert empty.status_code == 422
    assert empty.json()["detail"][0]["loc"] == ["body", "text"]


def test_a_tool_restricted_to_production_is_not_offered_elsewhere(
    example_app: RunningApp, admin: dict[str, str]
) -> None:
    names = {tool["name"] for tool in example_app.http.get("/api/v1/tools", headers=admin).json()["items"]}
    assert "example-word-count" in names and "example-production-only" not in names
    assert example_app.http.post("/api/v1/tools/example-production-only", json={}, headers=admin).status_code == 404


def test_its_command_and_setting_are_on_the_command_line(tmp_path: Path) -> None:
    install_example(tmp_path / "data")
    env = app_env(VCORE_DATA_DIR=str(tmp_path / "data"))
    run = [sys.executable, "-m", "vcore_app"]
    hello = subprocess.run([*run, "example-hello", "bob"], capture_output=True, text=True, env=env, timeout=60)
    assert hello.returncode == 0 and hello.stdout == "hello, bob\n", hello.stderr
    settings = subprocess.run([*run, "--help-settings"], capture_output=True, text=True, env=env, timeout=60).stdout
    assert "EXAMPLE_GREETING\n    env EXAMPLE_GREETING, default Hello (plugin vcore_example)" in settings
    listed = subprocess.run([*run, "plugins", "list"], capture_output=True, text=True, env=env, timeout=60).stdout
    assert f"vcore_example  [data folder] {tmp_path / 'data' / 'plugins' / 'vcore_example'}\n    loaded" in listed
