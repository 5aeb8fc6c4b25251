"""A scheduler's slot that passes without its run is notified `missed`, once: the app was down at the
time (with either misfire policy), or the overlap policy skipped the run. Scheduler time comes from a
fake clock (as in test_scheduler_firing.py); the messages go to a real local webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.apps import make_settings
from tests.support.notify import Receiver, eventually, webhook_receiver
from tests.support.scheduling import T0, FakeClock, Scene
from tests.support.scheduling import run_scene as run_app
from vcore_app.settings import Settings


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook: Receiver) -> Settings:
    return make_settings(tmp_path, monkeypatch, NOTIFY_WEBHOOK_URL=hook.url, NOTIFY_RETRY_BASE_SECONDS=0.1)


def _settled(scene: Scene) -> list[dict[str, Any]]:
    def done() -> list[dict[str, Any]] | None:
        pending = scene.client.get("/api/v1/notifications/deliveries?status=pending", headers=scene.headers).json()
        return (
            None
            if pending["total"]
            else scene.client.get("/api/v1/notifications/deliveries", headers=scene.headers).json()["items"]
        )

    return eventually(done)


@pytest.mark.parametrize(
    ("misfire_policy", "outcome"), [("run_once", "ran job #"), ("skip", "skipped (misfire policy)")]
)
def test_a_scheduler_due_while_the_app_was_down_notifies_missed_once_after_start(
    settings: Settings, hook: Receiver, misfire_policy: str, outcome: str
) -> None:
    clock = FakeClock(T0)
    boots = run_app(settings, clock)
    scene = next(boots)
    created = scene.create(overlap_policy="queue", misfire_policy=misfire_policy)
    boots.close()  # down from 12:00 to 14:00: the 12:01 slot passes
    clock.advance(hours=2)
    boots = run_app(settings, clock)
    scene = next(boots)
    scene.tick(seconds=1)
    scene.tick(seconds=1)
    eventually(lambda: hook.accepted("missed"))
    _settled(scene)
    assert [r["event"] for r in hook.requests] == ["missed"]
    body = hook.requests[0]["body"]
    assert body["scheduler"] == {"id": created["id"], "name": "every minute"}
    assert "not running at 2026-03-01T12:01:00+00:00" in body["detail"] and outcome in body["detail"]
    scene.tick(seconds=60)  # the next slot is on time: nothing more
    boots.close()
    boots = run_app(settings, clock)  # and a restart does not report it again
    scene = next(boots)
    scene.tick(seconds=1)
    _settled(scene)
    assert [r["event"] for r in hook.requests] == ["missed"]
    boots.close()


def test_a_run_skipped_by_the_overlap_policy_notifies_missed_once_per_slot(settings: Settings, hook: Receiver) -> None:
    boots = run_app(settings, FakeClock(T0))
    scene = next(boots)
    created = scene.create(overlap_policy="skip")
    scene.tick(seconds=60)  # runs (stays queued: the consumer is stopped)
    scene.tick(seconds=60)  # skipped
    eventually(lambda: hook.accepted("missed"))
    _settled(scene)
    assert [r["event"] for r in hook.requests] == ["missed"]
    assert "overlap policy" in hook.requests[0]["body"]["detail"]
    assert len(scene.runs(created["id"])) == 1
    boots.close()


def test_a_scheduler_rule_can_turn_missed_off(settings: Settings, hook: Receiver) -> None:
    boots = run_app(settings, FakeClock(T0))
    scene = next(boots)
    scene.create(overlap_policy="skip", notify={"events": ["failed"]})
    scene.tick(seconds=60)
    scene.tick(seconds=60)
    scene.client.post("/api/v1/notifications/test", json={}, headers=scene.headers)
    eventually(lambda: hook.accepted("test"))
    _settled(scene)
    assert [r["event"] for r in hook.requests] == ["test"]
    boots.close()
