"""One instance per data folder, the port fallback and opening the browser: from source, as real processes.

The browser is a recording script named by the BROWSER variable, which Python's webbrowser honours.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.apps import RunningApp, app_env, free_port
from tests.support.cli import opened_urls, recording_browser, run_cli
from tests.support.waiting import wait_for
from vcore_app.instance import (
    LOCK_FILE,
    AlreadyRunning,
    Holder,
    InstanceLock,
    read_holder,
)


def published_url(data_dir: Path) -> str:
    """The URL a running instance wrote to its lock file; it writes it just after it starts listening."""
    return wait_for(lambda: read_holder(data_dir / LOCK_FILE).url)


@contextmanager
def port_taken(port: int) -> Iterator[None]:
    """Hold `port` on 127.0.0.1; if someone else already holds it, it is taken all the same."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
        yield


def test_the_lock_is_exclusive_until_released(tmp_path: Path) -> None:
    lock = InstanceLock.acquire(tmp_path)
    lock.publish(port=5123, url="http://127.0.0.1:5123")
    with pytest.raises(AlreadyRunning) as raised:
        InstanceLock.acquire(tmp_path)
    assert raised.value.holder == Holder(pid=os.getpid(), url="http://127.0.0.1:5123")
    lock.release()
    InstanceLock.acquire(tmp_path).release()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"pid": 7, "port": 1, "url": "http://127.0.0.1:1"}\n', Holder(pid=7, url="http://127.0.0.1:1")),
        ('{"pid": 7}\n"port": 5000, "url": "http://127.0.0.1:5000"}\n', Holder(pid=7, url=None)),  # a longer one's tail
        ("", Holder(pid=None, url=None)),
        ("not json", Holder(pid=None, url=None)),
        ("[1, 2]", Holder(pid=None, url=None)),
    ],
)
def test_the_lock_file_is_read_best_effort(tmp_path: Path, content: str, expected: Holder) -> None:
    (tmp_path / LOCK_FILE).write_text(content)
    assert read_holder(tmp_path / LOCK_FILE) == expected


def test_a_second_start_on_the_same_data_folder_exits_2_saying_where_the_first_runs(
    tmp_path: Path, launch: Callable[..., RunningApp]
) -> None:
    first = launch(tmp_path / "data")
    published_url(first.data_dir)
    result = run_cli("--port", str(free_port()), "--data-dir", str(first.data_dir), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert f"already runs on this data folder at {first.url}, pid {first.proc.pid}" in lines[0]
    assert first.http.get("/healthz").status_code == 200
    assert first.stop() == 0


def test_a_second_start_that_opens_the_browser_opens_it_at_the_running_instance(
    tmp_path: Path, launch: Callable[..., RunningApp]
) -> None:
    browser_env, urls = recording_browser(tmp_path)
    first = launch(tmp_path / "data")
    result = run_cli("--open-browser", "--data-dir", str(first.data_dir), env=app_env(**browser_env), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert opened_urls(urls) == [first.url]
    assert first.stop() == 0


@pytest.mark.xdist_group("port-5000")  # holds 5000, the default port: one such test at a time
def test_without_an_explicit_port_it_takes_the_next_free_one_and_opens_the_browser_there(tmp_path: Path) -> None:
    browser_env, urls = recording_browser(tmp_path)
    data = tmp_path / "data"
    with port_taken(5000), open(tmp_path / "console.log", "w") as console:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vcore_app", "--open-browser", "--data-dir", str(data)],
            stdout=console,
            stderr=subprocess.STDOUT,
            env=app_env(**browser_env),
            cwd=tmp_path,
        )
        try:
            url = published_url(data)
            assert url != "http://127.0.0.1:5000" and url.startswith("http://127.0.0.1:50")
            assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
            opened = wait_for(lambda: opened_urls(urls))
            # no user yet: the browser goes straight to the one-time setup page
            assert len(opened) == 1 and opened[0].startswith(f"{url}/setup?token=")
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0
    assert f"port 5000 is in use on 127.0.0.1; using {url.rsplit(':', 1)[1]}" in (tmp_path / "console.log").read_text()


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_an_explicit_port_that_is_taken_stays_an_error(tmp_path: Path, how: str) -> None:
    port = free_port()
    args, env = (["--port", str(port)], app_env()) if how == "flag" else ([], app_env(SERVER_PORT=str(port)))
    with port_taken(port):
        result = run_cli(*args, "--data-dir", str(tmp_path / "data"), env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: SERVER_PORT='{port}': address already in use on 127.0.0.1"


def test_a_lock_file_left_by_a_killed_instance_does_not_stop_the_next_start(
    tmp_path: Path, launch: Callable[..., RunningApp]
) -> None:
    data = tmp_path / "data"
    killed = launch(data)
    assert killed.stop(signal.SIGKILL) == -signal.SIGKILL
    assert read_holder(data / LOCK_FILE).pid == killed.proc.pid  # the file is still there, unlocked
    second = launch(data)
    assert published_url(data) == second.url
    assert read_holder(data / LOCK_FILE).pid == second.proc.pid
    assert second.stop() == 0
    assert (data / LOCK_FILE).read_text() == ""  # released on a clean stop


def test_a_stale_lock_file_with_a_dead_pid_is_ignored(tmp_path: Path, launch: Callable[..., RunningApp]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / LOCK_FILE).write_text('{"pid": 4194304, "port": 1, "url": "http://127.0.0.1:1", "and": "a long tail"}')
    app = launch(data)
    assert published_url(data) == app.url
    assert read_holder(data / LOCK_FILE).pid == app.proc.pid
    assert app.stop() == 0
