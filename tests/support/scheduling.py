"""Scheduler tests with a fake clock: a real runtime whose scheduler ticks only when a test says so,
its `default` consumer stopped so the jobs a scheduler creates stay `queued`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from tests.support.apps import ADMIN
from tests.support.auth import login
from vcore_app.app import create_app
from vcore_app.runtime import Runtime
from vcore_app.settings import Settings

URL = "/api/v1/job-schedulers"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Scene:
    client: TestClient
    runtime: Runtime
    clock: FakeClock
    headers: dict[str, str]

    def create(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "name": "every minute",
            "trigger_type": "repeat",
            "repeat_every_seconds": 60,
            "job_template": {"type": "command", "command": "true"},
            **overrides,
        }
        response = self.client.post(URL, json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()

    def tick(self, **advance: float) -> None:
        self.clock.advance(**advance)
        self.runtime.scheduler.tick()

    def runs(self, scheduler_id: int) -> list[dict[str, Any]]:
        return self.client.get(f"{URL}/{scheduler_id}/jobs", headers=self.headers).json()["items"]

    def get(self, scheduler_id: int) -> dict[str, Any]:
        return self.client.get(f"{URL}/{scheduler_id}", headers=self.headers).json()


def run_scene(settings: Settings, clock: FakeClock) -> Iterator[Scene]:
    runtime = Runtime(settings, clock=clock)
    runtime.start()
    try:
        with TestClient(create_app(settings, runtime)) as client:
            headers = login(client, ADMIN["username"], ADMIN["password"])
            client.post("/api/v1/jobs/stop-consumer?queue_name=default", headers=headers).raise_for_status()
            yield Scene(client, runtime, clock, headers)
    finally:
        runtime.stop()
