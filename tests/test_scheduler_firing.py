"""When schedulers fire, with a fake clock: misfires, overlap, env filter, on-start once per boot,
toggle, delete, restarts. Plus one real-time test against a running app.

The queue consumer is paused in these tests, so the jobs a scheduler creates stay `queued`: that is
"the previous run is still active" for the overlap policies, and no process runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.apps import ADMIN, ADMIN_ENV, app_env, make_settings, start_app
from tests.support.auth import login
from tests.support.jobs import tick_scheduler
from tests.support.scheduling import T0, URL, FakeClock, Scene, run_scene
from tests.support.waiting import wait_for
from vcore_app.settings import Settings


@pytest.fixture
def scene(settings: Settings) -> Iterator[Scene]:
    yield from run_scene(settings, FakeClock(T0))


@pytest.mark.both_databases
def test_a_repeat_scheduler_fires_on_its_planned_slots_without_drift(scene: Scene) -> None:
    created = scene.create()
    assert created["next_run_at"] == "2026-03-01T12:01:00Z"
    scene.tick(seconds=61.5)  # woke 1.5 s late
    assert len(scene.runs(created["id"])) == 1
    assert scene.get(created["id"])["next_run_at"] == "2026-03-01T12:02:00Z"


@pytest.mark.both_databases
def test_after_two_hours_down_run_once_creates_exactly_one_catch_up_job(scene: Scene) -> None:
    created = scene.create(overlap_policy="queue")
    scene.tick(hours=2)
    assert len(scene.runs(created["id"])) == 1
    assert scene.get(created["id"])["next_run_at"] == "2026-03-01T14:01:00Z"


@pytest.mark.both_databases
def test_after_two_hours_down_misfire_skip_creates_none_and_plans_the_next_slot(scene: Scene) -> None:
    created = scene.create(misfire_policy="skip")
    scene.tick(hours=2)
    assert scene.runs(created["id"]) == []
    assert scene.get(created["id"])["next_run_at"] == "2026-03-01T14:01:00Z"


@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("policy", "runs", "first_status"),
    [
        ("skip", 1, "queued"),
        ("queue", 2, "queued"),
        ("replace", 2, "cancelled"),
    ],
)
def test_overlap_policy_when_the_previous_run_is_still_waiting(
    scene: Scene, policy: str, runs: int, first_status: str
) -> None:
    created = scene.create(overlap_policy=policy)
    scene.tick(seconds=60)
    scene.tick(seconds=60)
    jobs = scene.runs(created["id"])
    assert len(jobs) == runs
    assert jobs[-1]["status"] == first_status  # newest first: the last one is the first run


@pytest.mark.parametrize(("env_name", "fires"), [("", True), ("*", True), ("local", True), ("prod", False)])
def test_a_scheduler_runs_only_in_its_environment(scene: Scene, env_name: str, fires: bool) -> None:
    created = scene.create(env_name=env_name)
    scene.tick(seconds=60)
    assert len(scene.runs(created["id"])) == (1 if fires else 0)


@pytest.mark.both_databases
def test_a_cron_scheduler_fires_at_its_wall_time(scene: Scene) -> None:
    created = scene.create(trigger_type="cron", repeat_every_seconds=None, cron="30 13 * * *", timezone="Europe/Berlin")
    assert created["next_run_at"] == "2026-03-01T12:30:00Z"
    scene.tick(minutes=29)
    assert scene.runs(created["id"]) == []
    scene.tick(minutes=1)
    assert len(scene.runs(created["id"])) == 1
    assert scene.get(created["id"])["next_run_at"] == "2026-03-02T12:30:00Z"


def test_toggled_off_it_stops_firing_and_toggled_on_it_plans_from_now(scene: Scene) -> None:
    created = scene.create()
    scene.client.post(f"{URL}/{created['id']}/toggle", headers=scene.headers)
    scene.tick(hours=1)
    assert scene.runs(created["id"]) == []
    on = scene.client.post(f"{URL}/{created['id']}/toggle", headers=scene.headers).json()
    assert on["next_run_at"] == "2026-03-01T13:01:00Z"


@pytest.mark.both_databases
def test_deleting_a_scheduler_keeps_its_past_jobs(scene: Scene) -> None:
    created = scene.create()
    scene.tick(seconds=60)
    job_id = scene.runs(created["id"])[0]["id"]
    assert scene.client.delete(f"{URL}/{created['id']}", headers=scene.headers).status_code == 204
    job = scene.client.get(f"/api/v1/jobs/{job_id}", headers=scene.headers).json()
    assert job["scheduler_id"] == created["id"]


def test_run_now_creates_a_job_and_keeps_the_plan(scene: Scene) -> None:
    created = scene.create()
    response = scene.client.post(f"{URL}/{created['id']}/run-now", headers=scene.headers)
    assert response.status_code == 201 and response.json()["scheduler_id"] == created["id"]
    assert scene.get(created["id"])["next_run_at"] == created["next_run_at"]
    assert scene.get(created["id"])["last_run_status"] == "queued"


def test_a_template_that_no_longer_validates_is_logged_and_the_plan_moves_on(scene: Scene) -> None:
    created = scene.create(job_template={"type": "script", "script": "disk_usage", "input": {"path": "/"}})
    scene.runtime.wiring.scripts._scripts.pop("disk_usage")  # the plugin providing it was removed
    scene.tick(seconds=60)
    assert scene.runs(created["id"]) == []
    assert scene.get(created["id"])["next_run_at"] == "2026-03-01T12:02:00Z"


def test_on_start_fires_once_per_boot_and_never_on_toggle_or_restart_of_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, monkeypatch)
    clock = FakeClock(T0)
    boots = run_scene(settings, clock)
    scene = next(boots)
    created = scene.create(trigger_type="on_start", repeat_every_seconds=None)
    off_and_on = [scene.client.post(f"{URL}/{created['id']}/toggle", headers=scene.headers) for _ in range(2)]
    assert [r.json()["enabled"] for r in off_and_on] == [False, True]
    scene.tick(hours=1)
    assert scene.runs(created["id"]) == []  # created and toggled, but not booted yet
    repeat = scene.create()
    scene.tick(seconds=60)
    boots.close()
    for boot in (1, 2):
        boots = run_scene(settings, clock)
        scene = next(boots)
        scene.tick(seconds=1)
        assert len(scene.runs(created["id"])) == boot
        # the repeat slot that fired before the restart does not fire again
        assert len(scene.runs(repeat["id"])) == 1
        boots.close()


def test_a_repeat_every_second_creates_about_three_jobs_in_three_seconds(tmp_path: Path) -> None:
    """The one real-time test: a real app, the real clock."""
    app = start_app(
        tmp_path / "data",
        env=app_env(
            **ADMIN_ENV,
        ),
    )
    try:
        headers = login(app.http, ADMIN["username"], ADMIN["password"])
        scheduler_id = tick_scheduler(app.http, headers)
        start = time.monotonic()

        def runs() -> int:
            return app.http.get(f"{URL}/{scheduler_id}/jobs", headers=headers).json()["total"]

        wait_for(lambda: runs() >= 3, timeout=30)
        elapsed = time.monotonic() - start
        assert 2.0 <= elapsed <= 10.0  # ~3 s; generous on a loaded machine
        app.http.post(f"{URL}/{scheduler_id}/toggle", headers=headers)
        jobs = app.http.get(f"{URL}/{scheduler_id}/jobs", headers=headers).json()["items"]
        wait_for(
            lambda: all(
                j["status"] == "done"
                for j in app.http.get(f"{URL}/{scheduler_id}/jobs", headers=headers).json()["items"]
            )
        )
        assert len(jobs) >= 3
    finally:
        assert app.stop() == 0


def test_editing_the_name_or_job_keeps_the_plan_but_a_new_interval_replans(scene: Scene) -> None:
    created = scene.create()
    scene.clock.advance(seconds=30)
    renamed = scene.client.put(
        f"{URL}/{created['id']}",
        json={"name": "renamed", "job_template": {"type": "command", "command": "echo changed"}},
        headers=scene.headers,
    )
    assert renamed.json()["next_run_at"] == "2026-03-01T12:01:00Z"  # still the planned slot
    replanned = scene.client.put(f"{URL}/{created['id']}", json={"repeat_every_seconds": 300}, headers=scene.headers)
    assert replanned.json()["next_run_at"] == "2026-03-01T12:05:30Z"  # 5 minutes from the change
