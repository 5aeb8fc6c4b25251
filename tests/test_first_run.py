"""First run without FIRST_SUPERUSER_*: a one-time setup link on the console, never an open page;
and the `users` commands of the CLI."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from tests.support.apps import start_app
from tests.support.waiting import wait_for
from vcore_app import db
from vcore_app.auth.backend import SESSION_COOKIE
from vcore_app.cli import cli
from vcore_app.db import make_engine
from vcore_app.first_run import new_setup_token
from vcore_app.users import authenticate

FORM = {
    "username": "root",
    "email": "root@example.com",
    "full_name": "Root",
    "password": "root-password-1",
    "password_confirm": "root-password-1",
}


def test_the_setup_link_works_once_and_nothing_else_opens_setup(tmp_path: Path) -> None:
    app = start_app(tmp_path / "data", "--host", "0.0.0.0")  # not loopback: still only the token link works
    try:
        link = wait_for(lambda: re.search(r"http://\S+/setup\?token=(\S+)", app.output()))
        token = link.group(1)
        http = app.http
        for params in ({}, {"token": ""}, {"token": "wrong"}, {"token": token[:-1]}):
            assert http.get("/setup", params=params).status_code == 404
        assert http.post("/setup", data={**FORM, "token": "wrong"}).status_code == 404

        page = http.get("/setup", params={"token": token})
        assert page.status_code == 200 and 'name="password_confirm"' in page.text
        mismatch = http.post("/setup", data={**FORM, "token": token, "password_confirm": "other-password-1"})
        assert mismatch.status_code == 422 and "The two passwords differ" in mismatch.text

        done = http.post("/setup", data={**FORM, "token": token})
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert SESSION_COOKIE in done.cookies, "the new superuser is logged in"
        me = http.get("/api/v1/users/me")
        assert me.json()["username"] == "root" and me.json()["is_superuser"] is True
        assert me.json()["last_login_at"], "setting up is the first login"

        http.cookies.clear()
        again = http.get("/setup", params={"token": token}, headers={"accept": "text/html"})
        assert again.status_code == 410 and "Setup is done – log in" in again.text
        assert 'href="/login"' in again.text
        second = http.post("/setup", data={**FORM, "username": "second", "token": token})
        assert second.status_code == 410 and 'name="password"' not in second.text
    finally:
        assert app.stop() == 0
    assert token not in (app.data_dir / "logs" / "vcore.log").read_text(), "the link goes to the console only"


def test_with_a_user_there_is_no_setup_token_and_no_setup_form(client: TestClient) -> None:
    assert client.app.state.runtime.setup_token is None
    for params in ({}, {"token": ""}, {"token": "guessed"}):
        page = client.get("/setup", params=params, headers={"accept": "text/html"})
        assert page.status_code == 410 and "Setup is done" in page.text and "<form" not in page.text.split("<main")[1]


@pytest.fixture
def users_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """`vcore-app users ARGS --data-dir tmp/data`, in-process (the console script is tested in test_cli.py)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("VCORE_", "JWT_", "FIRST_SUPERUSER")):
            monkeypatch.delenv(name)

    def run(*args: str, stdin: str = "") -> Result:
        return CliRunner().invoke(cli, ["users", *args, "--data-dir", str(tmp_path / "data")], input=stdin)

    return run


def test_the_cli_creates_lists_and_sets_passwords(tmp_path: Path, users_cli: Callable[..., Result]) -> None:
    data = tmp_path / "data"
    created = users_cli(
        "create",
        "--superuser",
        "--username",
        "root",
        "--email",
        "root@example.com",
        "--password-stdin",
        stdin="root-password-1\n",
    )
    assert created.exit_code == 0, created.output
    assert created.stdout.strip() == "created superuser root"
    prompted = users_cli(
        "create", "--username", "bob", "--email", "bob@example.com", stdin="bob-password-1\nbob-password-1\n"
    )
    assert prompted.exit_code == 0, prompted.output

    listing = users_cli("list").stdout.splitlines()
    assert listing[0].split() == ["ID", "USERNAME", "EMAIL", "ROLE", "STATE", "LAST", "LOGIN"]
    assert [line.split()[1:4] for line in listing[1:]] == [
        ["root", "root@example.com", "superuser"],
        ["bob", "bob@example.com", "user"],
    ]
    assert users_cli("set-password", "ROOT", "--password-stdin", stdin="root-password-2\n").exit_code == 0

    engine = make_engine(f"sqlite:///{data / 'vcore.sqlite3'}")
    with db.session(engine) as session:
        root = authenticate(session=session, username="root", password="root-password-2")
        assert root is not None and root.is_superuser and root.token_version == 1, "set-password logs out"
        assert new_setup_token(session=session) is None, "with a user, setup stays closed"
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("set-password", "nobody", "--password-stdin"), "whatever-password\n", "USERNAME='nobody': no such user"),
        (
            ("create", "--username", "x", "--email", "x@example.com", "--password-stdin"),
            "short\n",
            "password: Password must be at least 8 characters",
        ),
        (("create", "--username", "x", "--email", "not-mail", "--password-stdin"), "long-enough-1\n", "email: "),
        (
            ("create", "--username", "x", "--email", "x@example.com", "--password-stdin"),
            "\n",
            "no password on standard input",
        ),
    ],
)
def test_a_cli_mistake_is_one_line_and_exit_2(
    users_cli: Callable[..., Result], args: tuple[str, ...], stdin: str, message: str
) -> None:
    result = users_cli(*args, stdin=stdin)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
