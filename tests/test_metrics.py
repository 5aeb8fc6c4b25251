"""`/metrics` read by prometheus-client's own parser from a real server; the access rule (loopback, or
the METRICS_TOKEN bearer from elsewhere); `/readyz`; and several apps in one process keeping their
own counters."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, ADMIN_ENV, RunningApp, app_env
from tests.support.auth import login
from tests.support.jobs import create, tick_scheduler, wait_status
from tests.support.waiting import wait_for
from vcore_app.app import create_app
from vcore_app.settings import Settings

TOKEN = "metrics-token-" + "t" * 30


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """{(sample name, labels): value} of an exposition, as Prometheus would read it."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def _env() -> dict[str, str]:
    return app_env(
        **ADMIN_ENV,
        METRICS_TOKEN=TOKEN,
    )


def _own_address() -> str | None:
    """An address of this machine that is not loopback (what a scraper on the network would reach)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_counters_move_when_a_job_runs_and_the_text_parses(launch: Callable[..., RunningApp], tmp_path: Path) -> None:
    app = launch(tmp_path / "data", env=_env())
    headers = login(app.http, ADMIN["username"], ADMIN["password"])
    before = samples(app.http.get("/metrics").text)
    done = create(app.http, headers, type="command", command="echo hi", name="ok")
    failed = create(app.http, headers, type="command", command="exit 3", name="bad")
    for job_id in (done["id"], failed["id"]):
        wait_status(app.http, headers, job_id)
    response = app.http.get("/metrics")  # loopback: no token needed
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("vcore_jobs_created_total", type="command", queue="default") == 2
    assert moved("vcore_jobs_finished_total", type="command", queue="default", status="done") == 1
    assert moved("vcore_jobs_finished_total", type="command", queue="default", status="failed") == 1
    assert moved("vcore_job_duration_seconds_count", type="command", queue="default") == 2
    assert value(after, "vcore_job_duration_seconds_bucket", type="command", queue="default", le="+Inf") == 2
    # HTTP by route template: the job ids in the paths are not label values
    assert value(after, "vcore_http_requests_total", method="POST", route="/api/v1/jobs", status="201") >= 2
    assert value(after, "vcore_http_requests_total", method="GET", route="/api/v1/jobs/{job_id:id}", status="200") >= 2
    routes = {dict(labels).get("route") for name, labels in after if name == "vcore_http_requests_total"}
    assert not any(route and route[-1].isdigit() for route in routes), routes
    assert value(after, "vcore_http_request_duration_seconds_count", method="POST", route="/api/v1/jobs") >= 2
    # state at scrape time
    assert value(after, "vcore_workers", queue="default") == 2
    assert value(after, "vcore_consumer_running", queue="reserved") == 1
    assert value(after, "vcore_queue_depth", queue="default") == 0
    assert value(after, "vcore_workers_busy", queue="default") == 0
    assert ("vcore_websocket_clients", frozenset()) in after
    assert value(after, "process_resident_memory_bytes") > 10_000_000
    assert value(after, "process_open_fds") > 0
    assert value(after, "process_cpu_seconds_total") > 0
    assert value(after, "vcore_sqlite_bytes", database="app", file="main") > 0
    assert ("vcore_sqlite_bytes", frozenset({("database", "huey_default"), ("file", "wal")})) in after


def test_a_scheduler_fire_is_counted(launch: Callable[..., RunningApp], tmp_path: Path) -> None:
    app = launch(tmp_path / "data", env=_env())
    headers = login(app.http, ADMIN["username"], ADMIN["password"])
    tick_scheduler(app.http, headers)
    wait_for(lambda: value(samples(app.http.get("/metrics").text), "vcore_scheduler_runs_total", outcome="fired") >= 1)


def test_metrics_from_another_address_need_the_token(launch: Callable[..., RunningApp], tmp_path: Path) -> None:
    address = _own_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to reach the app from")
    app = launch(tmp_path / "data", "--host", "0.0.0.0", env=_env())
    remote = f"http://{address}:{app.port}/metrics"
    assert httpx.get(remote, timeout=10).status_code == 401
    assert httpx.get(remote, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    admin = login(app.http, ADMIN["username"], ADMIN["password"])
    assert httpx.get(remote, headers=admin, timeout=10).status_code == 401  # a login is not the metrics token
    allowed = httpx.get(remote, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert allowed.status_code == 200 and "vcore_jobs_created" in allowed.text
    assert app.http.get("/metrics").status_code == 200  # loopback


def test_without_a_token_metrics_stay_on_loopback(settings: Settings) -> None:
    # TestClient's client address is "testclient": not loopback, and no METRICS_TOKEN is set
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401


def test_readyz_says_why_it_is_not_ready(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert client.get("/readyz").json() == {"status": "ready"}
    assert client.post("/api/v1/jobs/stop-consumer?queue_name=reserved", headers=admin_headers).status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["consumer of queue reserved is not running"]
    assert client.get("/healthz").status_code == 200  # liveness stays cheap and green


def test_two_apps_in_one_process_keep_their_own_counters(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.apps import make_settings

    (tmp_path / "other").mkdir()
    other = make_settings(tmp_path / "other", monkeypatch, METRICS_TOKEN=TOKEN)
    token = {"Authorization": f"Bearer {TOKEN}"}
    with (
        TestClient(create_app(settings.model_copy(update={"METRICS_TOKEN": other.METRICS_TOKEN}))) as first,
        TestClient(create_app(other)) as second,
    ):
        headers = login(first, ADMIN["username"], ADMIN["password"])
        wait_status(first, headers, create(first, headers, type="command", command="true")["id"])
        one = samples(first.get("/metrics", headers=token).text)
        two = samples(second.get("/metrics", headers=token).text)
    assert value(one, "vcore_jobs_created_total", type="command", queue="default") == 1
    assert value(two, "vcore_jobs_created_total", type="command", queue="default") == 0


def test_the_grafana_dashboard_charts_only_metrics_the_app_exports(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    import json
    import re

    dashboard = json.loads(
        (Path(__file__).resolve().parent.parent / "packaging" / "grafana-dashboard.json").read_text()
    )
    client.app.state.runtime.housekeeping.run_once()  # so its gauges exist
    wait_status(client, admin_headers, create(client, admin_headers, type="command", command="true")["id"])
    text = client.app.state.runtime.metrics.render().decode()  # what /metrics serves
    exported = {family.name for family in text_string_to_metric_families(text)}
    exported |= {f"{name}_total" for name in exported} | {f"{name}_bucket" for name in exported}
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b((?:vcore|process)_[a-z_]+)\b", target["expr"])
    }
    assert used and used <= exported, used - exported
    assert {"vcore_jobs_created_total", "vcore_http_request_duration_seconds_bucket", "vcore_sqlite_bytes"} <= used
