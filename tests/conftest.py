"""Fixtures that build real apps on temporary data folders: no mocks of our own parts.

Fixtures only; the helpers the tests import are in tests/support/. The two hooks at the end name the
test groups this machine cannot run (tests/support/machine.py), before the run and in its summary.

A test module marked `both_databases` runs each test that builds `settings` twice: on SQLite in the
data folder and on a fresh database of a real PostgreSQL server (issue 20); see `db_url`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import psutil
import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env, free_port, make_settings, start_app
from tests.support.auth import login
from tests.support.cluster import Cluster, running_cluster
from tests.support.machine import group, report
from tests.support.mail import Mailbox, smtp_settings
from tests.support.postgres import PostgresServer, start_server
from vcore_app.app import create_app
from vcore_app.settings import Settings


@pytest.fixture
def running_app(tmp_path: Path) -> Iterator[RunningApp]:
    app = start_app(tmp_path / "data")
    yield app
    if app.proc.poll() is None:
        app.proc.kill()
        app.proc.wait()


@pytest.fixture
def launch() -> Iterator[Callable[..., RunningApp]]:
    """`start_app`, with every app (and its children) still running after the test killed, pass or fail."""
    started: list[RunningApp] = []

    def _launch(*args: Any, **kwargs: Any) -> RunningApp:
        started.append(start_app(*args, **kwargs))
        return started[-1]

    yield _launch
    for app in started:
        if app.proc.poll() is None:
            # SIGKILL is not forwarded by the one-file bootloader: end its Python child too.
            children = psutil.Process(app.proc.pid).children(recursive=True)
            app.proc.kill()
            app.proc.wait()
            for child in children:
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test process (each xdist worker starts its own), stopped at the end."""
    if not group("postgresql").present():
        pytest.skip(group("postgresql").skip_reason)
    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database of its own on `postgres_server`, migrated to head, dropped afterwards."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def cluster(tmp_path: Path, postgres_url: str) -> Iterator[Cluster]:
    """Web and worker nodes (tests/support/cluster.py) on a PostgreSQL database of their own and a
    Redis of their own, as in production (issue 20)."""
    with running_cluster(tmp_path, postgres_url) as nodes:
        yield nodes


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> str:
    """The DB_URL of `settings`: "" (SQLite in the data folder) unless the module is marked
    `both_databases`, which runs its tests with "sqlite" and with "postgresql" (pytest_generate_tests)."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return ""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_url" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_databases"):
        metafunc.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Settings:
    return make_settings(tmp_path, monkeypatch, DB_URL=db_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """An in-process app with its own runtime (migrations, queues, scheduler) on a tmp data folder."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """An aiosmtpd server on a free loopback port, collecting every mail it is sent."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    class Collect(MessageHandler):
        def handle_message(self, message: Message) -> None:
            mailbox.messages.append(message)

    mailbox = Mailbox(host="127.0.0.1", port=free_port())
    controller = Controller(Collect(), hostname=mailbox.host, port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


@pytest.fixture
def mail_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: Mailbox) -> Iterator[TestClient]:
    """An in-process app that sends mail to `smtp_server`, with links on https://vcore.example."""
    settings = make_settings(tmp_path, monkeypatch, BASE_URL="https://vcore.example", **smtp_settings(smtp_server))
    with TestClient(create_app(settings), base_url="https://vcore.example") as client:
        yield client


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:
    """Bearer headers of the first superuser (created from FIRST_SUPERUSER_* at start)."""
    return login(client, ADMIN["username"], ADMIN["password"])


@pytest.fixture
def make_user(client: TestClient) -> Callable[..., dict[str, str]]:
    """Create a user straight in the database and return its bearer headers."""
    from vcore_app import db
    from vcore_app.users import create_user

    def make(username: str = "alice", password: str = "alice-password-1", superuser: bool = False) -> dict[str, str]:
        runtime = client.app.state.runtime
        with db.session(runtime.engine) as session:
            create_user(
                session=session,
                username=username,
                email=f"{username}@example.com",
                password=password,
                is_superuser=superuser,
            )
        return login(client, username, password)

    return make


# Browser fixtures (helpers in support/browser.py). Defined here, once: a session-scoped fixture imported
# into two test modules would start two browsers.
@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from tests.support.browser import launch_browser

    yield from launch_browser()


@pytest.fixture(scope="module")
def ui_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """One real server per UI test module, with the admin of ADMIN."""
    app = start_app(
        tmp_path_factory.mktemp("ui") / "data",
        env=app_env(
            **ADMIN_ENV,
            WORKERS_DEFAULT="2",
        ),
    )
    yield app
    app.stop()


@pytest.fixture
def page(browser: Any, ui_app: RunningApp) -> Iterator[Any]:
    """A logged-in page of a fresh context; dialogs (alert) are recorded on `page.dialogs`."""
    from tests.support.browser import log_in

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    tab.set_default_timeout(20_000)
    log_in(tab, ui_app.url)
    yield tab
    context.close()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Say which test groups will be skipped, and why, before any test runs (once: not in xdist workers)."""
    if not hasattr(session.config, "workerinput"):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            for line in report():
                reporter.write_line(line)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Repeat it at the end, where a reader of the result looks."""
    terminalreporter.section("test groups")
    for line in report():
        terminalreporter.write_line(line)
