"""A secret held between a POST and its page (web/shown_once.py) is taken once, by its user, in time."""

from __future__ import annotations

import pytest

from vcore_app.web import shown_once
from vcore_app.web.shown_once import ShownOnce


def test_it_is_taken_once_and_only_by_its_user() -> None:
    held = ShownOnce()
    ticket = held.put(7, {"key": "vc_secret"})
    assert held.take(ticket, 8) is None, "another user's page never shows it"
    assert held.take(ticket, 7) == {"key": "vc_secret"}
    assert held.take(ticket, 7) is None, "a reload shows nothing"
    assert held.take("guessed", 7) is None


def test_it_expires_and_the_store_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(shown_once.time, "monotonic", lambda: now[0])
    held = ShownOnce()
    late = held.put(1, {"key": "late"})
    now[0] += shown_once.MAX_AGE + 1
    assert held.take(late, 1) is None
    tickets = [held.put(1, {"n": n}) for n in range(shown_once.MAX_HELD + 5)]
    assert held.take(tickets[0], 1) is None, "the oldest made room"
    assert held.take(tickets[-1], 1) == {"n": shown_once.MAX_HELD + 4}
