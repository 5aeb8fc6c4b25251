"""Fixtures that build real apps on temporary data folders: no mocks of our own parts."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from starlette.testclient import TestClient

from vcore_app.app import create_app
from vcore_app.settings import Settings, load_settings

ADMIN = {"username": "admin", "email": "admin@example.com", "password": "admin-password-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll until `condition()` is truthy and return it; fail after a generous deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {condition}")
        time.sleep(interval)


@dataclass
class RunningApp:
    """The launcher as a real child process on a free loopback port."""

    proc: subprocess.Popen[str]
    data_dir: Path
    port: int
    log_path: Path
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(base_url=self.url, timeout=10)
        return self._client

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self._client is not None:
            self._client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


def app_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VCORE_", "JWT_", "FIRST_SUPERUSER"))}
    env.update(extra)
    return env


def start_app(data_dir: Path, *args: str, env: dict[str, str] | None = None, wait: bool = True,
              command: tuple[str, ...] = (), program: tuple[str, ...] = (sys.executable, "-m", "vcore_app")
              ) -> RunningApp:
    """Start `python -m vcore_app [command] --port P --data-dir D [args]` and wait for /healthz.

    `program` replaces `python -m vcore_app`, e.g. with the built binary.
    """
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}-console-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [*program, *command, "--port", str(port), "--data-dir", str(data_dir), *args],
            stdout=log, stderr=subprocess.STDOUT, text=True, env=env or app_env(), cwd=data_dir,
        )
    running = RunningApp(proc=proc, data_dir=data_dir, port=port, log_path=log_path)
    if wait:
        wait_until_healthy(running)
    return running


def wait_until_healthy(running: RunningApp, timeout: float = 30.0) -> None:
    def healthy() -> bool:
        if running.proc.poll() is not None:
            raise AssertionError(f"app exited with {running.proc.returncode}:\n{running.output()}")
        try:
            return httpx.get(f"{running.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, timeout)


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


def make_settings(folder: Path, monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> Settings:
    """Settings on `folder/data` with the admin of ADMIN, untouched by the caller's environment."""
    monkeypatch.chdir(folder)
    for name in list(os.environ):
        if name.startswith(("VCORE_", "JWT_", "FIRST_SUPERUSER")):
            monkeypatch.delenv(name)
    return load_settings(data_dir=str(folder / "data"), overrides={
        "LOG_LEVEL": "WARNING",
        "FIRST_SUPERUSER_USERNAME": ADMIN["username"],
        "FIRST_SUPERUSER_EMAIL": ADMIN["email"],
        "FIRST_SUPERUSER_PASSWORD": ADMIN["password"],
        **overrides,
    })


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return make_settings(tmp_path, monkeypatch)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """An in-process app with its own runtime (migrations, queues, scheduler) on a tmp data folder."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def login_tokens(client: Any, username: str, password: str) -> dict[str, str]:
    """Log in through the API; return the access and refresh tokens."""
    response = client.post("/api/v1/login/access-token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def login(client: Any, username: str, password: str) -> dict[str, str]:
    """Log in through the API; return the Authorization header of the access token."""
    return bearer(login_tokens(client, username, password)["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Mailbox:
    """What a real SMTP server on loopback received."""

    host: str
    port: int
    messages: list[Message] = field(default_factory=list)

    def wait_for_mail(self, to: str, count: int = 1) -> Message:
        """The `count`-th mail to `to`, once it has arrived."""
        return wait_for(lambda: ([m for m in self.messages if m["To"] == to][count - 1:count] or [None])[0])


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


def smtp_settings(mailbox: Mailbox) -> dict[str, Any]:
    return {"EMAILS_ENABLED": True, "SMTP_HOST": mailbox.host, "SMTP_PORT": mailbox.port, "SMTP_TLS": False}


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
            create_user(session=session, username=username, email=f"{username}@example.com", password=password,
                        is_superuser=superuser)
        return login(client, username, password)

    return make


# Browser fixtures (helpers in ui_support.py). Defined here, once: a session-scoped fixture imported
# into two test modules would start two browsers.
@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from tests.ui_support import launch_browser

    yield from launch_browser()


@pytest.fixture(scope="module")
def ui_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """One real server per UI test module, with the admin of ADMIN."""
    app = start_app(tmp_path_factory.mktemp("ui") / "data", env=app_env(
        FIRST_SUPERUSER_USERNAME=ADMIN["username"], FIRST_SUPERUSER_EMAIL=ADMIN["email"],
        FIRST_SUPERUSER_PASSWORD=ADMIN["password"], WORKERS_DEFAULT="2"))
    yield app
    app.stop()


@pytest.fixture
def page(browser: Any, ui_app: RunningApp) -> Iterator[Any]:
    """A logged-in page of a fresh context; dialogs (alert) are recorded on `page.dialogs`."""
    from tests.ui_support import log_in

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    tab.set_default_timeout(20_000)
    log_in(tab, ui_app.url)
    yield tab
    context.close()
