"""The app database write-locked by another process (a `sqlite3` shell, a backup tool) for seconds
(issue 19): writers wait for it (busy_timeout, db.py) and every job is created, none refused."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from starlette.testclient import TestClient

from tests.support.jobs import wait_status
from tests.support.waiting import wait_for
from vcore_app.settings import Settings

HOLD_SECONDS = 4
_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def test_writers_wait_for_a_lock_another_process_holds_and_all_jobs_are_created(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(settings.DATA_DIR / "vcore.sqlite3"), str(HOLD_SECONDS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            answers = list(
                pool.map(
                    lambda n: client.post(
                        "/api/v1/jobs", json={"type": "command", "command": f"echo {n}"}, headers=admin_headers
                    ),
                    range(8),
                )
            )
        waited = time.monotonic() - started
        assert [answer.status_code for answer in answers] == [201] * 8, [answer.text for answer in answers]
        assert holder.wait(30) == 0
        assert waited >= HOLD_SECONDS * 0.5  # they did wait for the other process
        for answer in answers:
            assert wait_status(client, admin_headers, answer.json()["id"], timeout=60)["status"] == "done"
        wait_for(lambda: client.get("/healthz").json()["status"] == "ok")
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
