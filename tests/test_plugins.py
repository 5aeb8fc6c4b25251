"""The plugin mechanism: a broken plugin is listed with its error and never stops the app; unsafe
files are refused; reload works without a restart; environments restrict what is offered."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, ADMIN_ENV, app_env, make_settings, start_app
from tests.support.auth import login
from tests.support.waiting import wait_for
from vcore_app.app import create_app
from vcore_app.settings import Settings

GOOD_TOOL = """
from pydantic import BaseModel
from vcore_app.tools import QuickTool

class Shout(QuickTool):
    name = "shout"
    title = "Shout"
    description = "Upper-case a text."

    class Input(BaseModel):
        text: str

    def run(self, data):
        return data.text.upper()
"""
BROKEN_IMPORT = "import no_such_module_here\n"
UNKNOWN_HOOK = "from vcore_app.plugins import hookimpl\n\n@hookimpl\ndef register_scripst():\n    return []\n"
RAISING_HOOK = (
    "from vcore_app.plugins import hookimpl\n\n@hookimpl\ndef register_quick_tools():\n"
    "    raise RuntimeError('tool table is on fire')\n"
)
PUBLIC_ROUTE = (
    "from starlette.responses import PlainTextResponse\nfrom starlette.routing import Route\n"
    "from vcore_app.plugins import hookimpl\n\n@hookimpl\ndef register_routes():\n"
    '    hello = lambda request: PlainTextResponse("sneaky")\n'
    '    return [Route("/login", hello), Route("/static/sneaky", hello), Route("/fine", hello)]\n'
)


@pytest.fixture
def plugin_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., TestClient]]:
    """An in-process app over a data folder whose plugins folder holds the given files."""
    clients: list[TestClient] = []

    def build(files: dict[str, str], **overrides: Any) -> TestClient:
        settings: Settings = make_settings(tmp_path, monkeypatch, **overrides)
        for name, text in files.items():
            (settings.plugins_dir / name).write_text(text)
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def records(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in client.get("/api/v1/plugins", headers=headers).json()["items"]}


def tool_names(client: TestClient, headers: dict[str, str]) -> set[str]:
    return {tool["name"] for tool in client.get("/api/v1/tools", headers=headers).json()["items"]}


def test_broken_plugins_are_listed_with_their_errors_and_the_app_still_serves_the_good_ones(
    plugin_app: Callable[..., TestClient],
) -> None:
    client = plugin_app(
        {"broken.py": BROKEN_IMPORT, "typo.py": UNKNOWN_HOOK, "raising.py": RAISING_HOOK, "shout.py": GOOD_TOOL}
    )
    admin = login(client, ADMIN["username"], ADMIN["password"])
    found = records(client, admin)
    assert found["broken"]["ok"] is False
    assert found["broken"]["error"] == "import: ModuleNotFoundError: No module named 'no_such_module_here'"
    assert "Traceback (most recent call last)" in found["broken"]["traceback"]
    assert found["typo"]["error"].startswith("unknown hook register_scripst")
    assert found["raising"]["error"] == "register_quick_tools: RuntimeError: tool table is on fire"
    assert found["shout"]["ok"] and found["shout"]["hooks"] == ["register_quick_tools"]
    assert {"shout", "cron-preview"} <= tool_names(client, admin)
    shouted = client.post("/api/v1/tools/shout", json={"text": "hi"}, headers=admin)
    assert shouted.json() == {"tool": "shout", "result": "HI"}


def test_only_a_superuser_sees_a_traceback(plugin_app: Callable[..., TestClient]) -> None:
    client = plugin_app({"broken.py": BROKEN_IMPORT})
    from vcore_app import db
    from vcore_app.users import create_user

    with db.session(client.app.state.runtime.engine) as session:
        create_user(session=session, username="bob", email="bob@example.com", password="bob-password-1")
    regular = login(client, "bob", "bob-password-1")
    entry = records(client, regular)["broken"]
    assert entry["error"].startswith("import: ModuleNotFoundError") and "traceback" not in entry
    page = client.get("/plugins", headers={**regular, "accept": "text/html"}).text
    assert "No module named" in page and "Traceback" not in page and "Reload plugins" not in page
    admin_page = client.get(
        "/plugins", headers={**login(client, ADMIN["username"], ADMIN["password"]), "accept": "text/html"}
    ).text
    assert "Traceback (most recent call last)" in admin_page and "Reload plugins" in admin_page
    assert client.post("/api/v1/plugins/reload", headers=regular).status_code == 403


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    from loguru import logger

    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="WARNING")
    yield lines
    logger.remove(sink)


def test_a_plugin_writable_by_other_users_is_refused_with_a_log_line(
    plugin_app: Callable[..., TestClient], tmp_path: Path, log_lines: list[str]
) -> None:
    marker = tmp_path / "imported"
    settings_dir = tmp_path / "data" / "plugins"
    settings_dir.mkdir(parents=True, mode=0o700)
    unsafe = settings_dir / "unsafe.py"
    unsafe.write_text(f"open({str(marker)!r}, 'w').close()\n")
    unsafe.chmod(0o666)
    client = plugin_app({})
    admin = login(client, ADMIN["username"], ADMIN["password"])
    entry = records(client, admin)["unsafe"]
    assert entry["error"] == f"{unsafe} is writable by other users (chmod go-w '{unsafe}')"
    assert not marker.exists()  # never imported
    client.post("/api/v1/plugins/reload", headers=admin)
    assert sum("plugin unsafe refused" in line for line in log_lines) == 2  # once at start, once per reload


def test_the_plugins_folder_is_created_private(settings: Settings) -> None:
    assert settings.plugins_dir.stat().st_mode & 0o777 == 0o700


def test_a_plugin_route_on_a_public_path_is_refused_and_the_others_need_a_login(
    plugin_app: Callable[..., TestClient],
) -> None:
    client = plugin_app({"routes.py": PUBLIC_ROUTE})
    admin = login(client, ADMIN["username"], ADMIN["password"])
    assert "refused" in records(client, admin)["routes"]["error"]
    assert "sneaky" not in client.get("/login").text
    assert client.get("/static/sneaky").status_code == 404
    assert client.get("/fine", follow_redirects=False).status_code == 303  # to the login form
    assert client.get("/fine", headers=admin).text == "sneaky"


def test_reload_picks_up_a_new_plugin_without_a_restart(plugin_app: Callable[..., TestClient]) -> None:
    client = plugin_app({"broken.py": BROKEN_IMPORT})
    admin = login(client, ADMIN["username"], ADMIN["password"])
    assert "shout" not in tool_names(client, admin)
    plugins_dir = client.app.state.settings.plugins_dir
    (plugins_dir / "shout.py").write_text(GOOD_TOOL)
    (plugins_dir / "broken.py").write_text("x = 1\n")  # fixed
    reloaded = client.post("/api/v1/plugins/reload", headers=admin)
    assert reloaded.status_code == 200
    assert reloaded.json()["message"].startswith("Reloaded 2 plugins from the plugins folder.")
    assert "shout" in tool_names(client, admin)
    assert records(client, admin)["broken"]["ok"]


SCRIPT_FOR_PRODUCTION = """
from vcore_app.plugins import restrict_to_env
from vcore_app.scripts.base import Script

@restrict_to_env("production")
class OffsiteSync(Script):
    name = "offsite_sync"
    description = "Only in production."

    def run(self, input, ctx):
        return "synced"
"""


@pytest.mark.parametrize(("env_name", "offered"), [("production", True), ("local", False)])
def test_restrict_to_env_offers_a_script_only_in_its_environments(
    plugin_app: Callable[..., TestClient], env_name: str, offered: bool
) -> None:
    client = plugin_app({"offsite_sync.py": SCRIPT_FOR_PRODUCTION}, ENV_NAME=env_name)
    admin = login(client, ADMIN["username"], ADMIN["password"])
    names = {script["name"] for script in client.get("/api/v1/scripts", headers=admin).json()["items"]}
    assert ("offsite_sync" in names) is offered
    run = client.post("/api/v1/scripts/offsite_sync/run", json={}, headers=admin)
    assert run.status_code == (201 if offered else 422)


def test_the_cli_lists_a_broken_plugin_and_asks_a_running_app_to_reload(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "plugins").mkdir(parents=True, mode=0o700)
    (data / "plugins" / "broken.py").write_text(BROKEN_IMPORT)
    env = app_env()
    run = [sys.executable, "-m", "vcore_app"]
    listed = subprocess.run(
        [*run, "plugins", "list", "--data-dir", str(data), "--traceback"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert listed.returncode == 0
    assert "FAILED: import: ModuleNotFoundError: No module named 'no_such_module_here'" in listed.stdout
    assert "Traceback (most recent call last)" in listed.stdout
    idle = subprocess.run(
        [*run, "plugins", "reload", "--data-dir", str(data)], capture_output=True, text=True, env=env, timeout=60
    )
    assert idle.returncode == 2 and idle.stderr.startswith("error: no vcore-app runs on")
    app = start_app(
        data,
        env=app_env(
            **ADMIN_ENV,
        ),
    )
    try:
        assert app.output().count("plugin broken") == 1  # logged once
        token = app.http.post(
            "/api/v1/login/access-token", data={"username": ADMIN["username"], "password": ADMIN["password"]}
        ).json()
        admin = {"Authorization": f"Bearer {token['access_token']}"}
        (data / "plugins" / "shout.py").write_text(GOOD_TOOL)
        asked = subprocess.run(
            [*run, "plugins", "reload", "--data-dir", str(data)], capture_output=True, text=True, env=env, timeout=60
        )
        assert asked.returncode == 0 and f"pid {app.proc.pid}" in asked.stdout
        wait_for(lambda: "shout" in {t["name"] for t in app.http.get("/api/v1/tools", headers=admin).json()["items"]})
        assert app.proc.poll() is None
    finally:
        app.stop()


LIFECYCLE = """
from pathlib import Path
from vcore_app.plugins import hookimpl

class Pager:
    name = "pager"

@hookimpl
def on_startup(settings, runtime):
    (settings.DATA_DIR / "started").write_text(runtime.boot_id)

@hookimpl
def on_shutdown(settings):
    (settings.DATA_DIR / "stopped").write_text("bye")

@hookimpl
def register_notification_channels():
    return [Pager]
"""


def test_startup_and_shutdown_hooks_run_once_each_and_channels_are_collected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, monkeypatch)
    (settings.plugins_dir / "lifecycle.py").write_text(LIFECYCLE)
    app = create_app(settings)
    assert not (settings.DATA_DIR / "started").exists()  # building the app runs no hook
    with TestClient(app):
        runtime = app.state.runtime
        assert (settings.DATA_DIR / "started").read_text() == runtime.boot_id
        assert not (settings.DATA_DIR / "stopped").exists()
        assert [channel.name for channel in runtime.plugins.notification_channels()] == ["pager"]
    assert (settings.DATA_DIR / "stopped").read_text() == "bye"


OVERRIDE = """
from pathlib import Path
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from vcore_app.plugins import hookimpl, restrict_to_env

HERE = Path(__file__).resolve().parent

@restrict_to_env("production")
async def only_in_production(request):
    return PlainTextResponse("production route")

@hookimpl
def register_templates():
    return [HERE / "templates"]

@hookimpl
def register_routes():
    return [Route("/prod-only", only_in_production)]
"""


def test_a_plugin_template_replaces_ours_and_a_route_keeps_to_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, monkeypatch)
    package = settings.plugins_dir / "restyle"
    (package / "templates" / "tools").mkdir(parents=True)
    (package / "__init__.py").write_text(OVERRIDE)
    (package / "templates" / "tools" / "index.html").write_text(
        '{% extends "base/base.html" %}{% block content %}<h1 id="ours">{{ tools|length }} tools, our way</h1>'
        "{% endblock %}"
    )
    with TestClient(create_app(settings)) as client:
        admin = login(client, ADMIN["username"], ADMIN["password"])
        page = client.get("/tools", headers={**admin, "accept": "text/html"}).text
        assert re.search(r'<h1 id="ours">\d+ tools, our way</h1>', page)
        assert 'class="navbar' in page  # the rest of our layout stays
        assert client.get("/prod-only", headers=admin).status_code == 404  # ENV_NAME is "local"
