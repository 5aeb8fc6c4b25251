"""The wall clock jumps under the scheduler (issue 19): slots are wall-clock times, the thread waits on
a monotonic clock but at most MAX_WAIT_SECONDS before it reads the wall clock again.

Back one hour: no slot fires twice, and the thread does not sleep out the hour it computed before.
Forward one day: the missed slots fire once per the misfire policy, and no burst of catch-up runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.apps import make_settings
from tests.support.scheduling import T0, FakeClock, Scene, run_scene
from vcore_app.schedulers.thread import MAX_WAIT_SECONDS


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scene]:
    yield from run_scene(make_settings(tmp_path, monkeypatch), FakeClock(T0))


def test_a_clock_set_back_an_hour_fires_no_slot_twice(scene: Scene) -> None:
    created = scene.create(overlap_policy="queue")
    scene.tick(seconds=60)  # 12:01 fires
    assert len(scene.runs(created["id"])) == 1
    scene.clock.advance(hours=-1)  # 11:01: the 12:01 slot comes round again
    assert scene.runtime.scheduler.tick() == MAX_WAIT_SECONDS  # not the 61 minutes to 12:02
    for _ in range(6):
        scene.tick(minutes=10)  # 11:11 .. 12:01
    assert len(scene.runs(created["id"])) == 1
    assert scene.get(created["id"])["next_run_at"] == "2026-03-01T12:02:00Z"
    scene.tick(minutes=1)  # 12:02, the next slot, once
    scene.tick(seconds=1)
    assert len(scene.runs(created["id"])) == 2


@pytest.mark.parametrize(("misfire_policy", "catch_up_runs"), [("run_once", 1), ("skip", 0)])
@pytest.mark.parametrize(
    "trigger",
    [{"trigger_type": "repeat", "repeat_every_seconds": 60}, {"trigger_type": "cron", "cron": "*/5 * * * *"}],
    ids=["repeat", "cron"],
)
def test_a_clock_set_forward_a_day_fires_once_per_the_misfire_policy_and_no_burst(
    scene: Scene, misfire_policy: str, catch_up_runs: int, trigger: dict[str, object]
) -> None:
    body = {"repeat_every_seconds": None, **trigger}
    created = scene.create(overlap_policy="queue", misfire_policy=misfire_policy, **body)
    scene.tick(days=1)  # 1440 minute slots (288 five-minute ones) were missed
    assert len(scene.runs(created["id"])) == catch_up_runs
    for _ in range(3):
        scene.tick(seconds=1)  # the thread looks again at once: nothing more to catch up
    assert len(scene.runs(created["id"])) == catch_up_runs
    planned = scene.get(created["id"])["next_run_at"]
    assert "2026-03-02T12:00:00Z" < planned <= "2026-03-02T12:05:00Z"  # the next slot after the jump
