"""Job logs: capped with head and tail, read by offset and tail without loading the file, retention."""

from __future__ import annotations

from pathlib import Path

import psutil
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, ADMIN_ENV, app_env, start_app
from tests.support.auth import login
from tests.support.jobs import create, log_text, wait_status
from vcore_app.jobs.logs import MARKER

H = dict[str, str]


def test_a_job_printing_50_mb_keeps_head_and_tail_and_the_server_memory_flat(tmp_path: Path) -> None:
    app = start_app(tmp_path / "data", env=app_env(JOB_LOG_MAX_BYTES="1000000", **ADMIN_ENV))
    try:
        auth = login(app.http, ADMIN["username"], ADMIN["password"])
        server = psutil.Process(app.proc.pid)
        warm = create(app.http, auth, type="command", command="yes line | head -n 1000")
        wait_status(app.http, auth, warm["id"], "done")
        rss_before = server.memory_info().rss
        command = (
            "echo FIRST; yes 'a line of output that repeats until fifty megabytes' | head -c 50000000; echo; echo LAST"
        )
        created = create(app.http, auth, type="command", command=command)
        wait_status(app.http, auth, created["id"], "done", timeout=60)
        rss_growth = server.memory_info().rss - rss_before
        path = tmp_path / "data" / "logs" / "jobs" / f"{created['id']}.log"
        size = path.stat().st_size
        content = path.read_bytes()
    finally:
        app.stop()
    assert size <= 1_000_000
    assert content.count(MARKER) == 1
    head, tail = content.split(MARKER)
    assert b"Z FIRST\n" in head and b"attempt 1 of 1" in head
    assert tail.endswith(b"[vcore] exit code 0\n") and b"Z LAST\n" in tail
    assert rss_growth < 20_000_000, f"server RSS grew by {rss_growth} bytes"


def test_the_log_is_read_from_an_offset_or_as_the_last_lines(client: TestClient, admin_headers: H) -> None:
    created = create(client, admin_headers, type="command", command="for i in 1 2 3 4 5; do echo line$i; done")
    wait_status(client, admin_headers, created["id"], "done")
    url = f"/api/v1/jobs/{created['id']}/log"
    whole = client.get(url, headers=admin_headers)
    assert whole.headers["content-type"].startswith("text/plain")
    assert int(whole.headers["x-log-size"]) == len(whole.content)
    tail = log_text(client, admin_headers, created["id"], tail=2).splitlines()
    assert [line.split("Z ", 1)[1] for line in tail] == ["line5", "[vcore] exit code 0"]
    offset = whole.text.index("line3")
    start = whole.text.rindex("\n", 0, offset) + 1
    assert log_text(client, admin_headers, created["id"], offset=start) == whole.text[start:]
    at_end = client.get(url, params={"offset": whole.headers["x-log-size"]}, headers=admin_headers)
    assert at_end.text == ""
    assert client.get(url, params={"tail": 0}, headers=admin_headers).status_code == 422


def test_deleting_a_job_removes_its_log_and_a_running_job_cannot_be_deleted(
    client: TestClient, admin_headers: H, settings
) -> None:  # type: ignore[no-untyped-def]
    running = create(client, admin_headers, type="command", command="sleep 30")
    wait_status(client, admin_headers, running["id"], "running")
    assert client.delete(f"/api/v1/jobs/{running['id']}", headers=admin_headers).status_code == 409
    assert client.put(f"/api/v1/jobs/{running['id']}", json={"name": "x"}, headers=admin_headers).status_code == 409
    client.post(f"/api/v1/jobs/{running['id']}/kill", headers=admin_headers)
    done = create(client, admin_headers, type="command", command="echo bye")
    wait_status(client, admin_headers, done["id"], "done")
    path = settings.job_logs_dir / f"{done['id']}.log"
    assert path.exists()
    assert client.delete(f"/api/v1/jobs/{done['id']}", headers=admin_headers).status_code == 204
    assert not path.exists()
    assert client.get(f"/api/v1/jobs/{done['id']}", headers=admin_headers).status_code == 404
