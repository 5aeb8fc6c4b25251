"""A secret shown once, on the page a POST redirects to (a new API key): post, redirect, get.

The "key created" page used to be the answer to the form's POST, so reloading it posted again and
silently created a second key. Now the POST puts the key here and redirects; the next full page of
that browser and that user takes it out and shows it; a reload finds nothing (web/flash.py:
`hold_secret`, `take_secret`). The secret stays in this process's memory under a random ticket, and
the browser holds only the ticket in a short-lived cookie: the flash cookie is signed, not encrypted,
and a key has no place in a cookie jar. One process holds all the state, as for the login throttle; a
restart in between loses the key, which the user then revokes and creates again.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

MAX_AGE = 60  # seconds: the redirect follows at once
MAX_HELD = 1000  # so a script posting forms in a loop cannot grow the process without bound


@dataclass(frozen=True)
class _Held:
    user_id: int
    expires: float
    value: dict[str, Any]


class ShownOnce:
    """Secrets waiting for their one page, by random ticket; expired ones are dropped as new ones come."""

    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    def put(self, user_id: int, value: dict[str, Any]) -> str:
        """Hold `value` for `user_id`; returns the ticket to take it with."""
        now = time.monotonic()
        ticket = secrets.token_urlsafe(24)
        with self._lock:
            self._held = {k: held for k, held in self._held.items() if held.expires > now}
            while len(self._held) >= MAX_HELD:
                self._held.pop(next(iter(self._held)))  # the oldest first
            self._held[ticket] = _Held(user_id, now + MAX_AGE, value)
        return ticket

    def take(self, ticket: str, user_id: int) -> dict[str, Any] | None:
        """The value once, to the user it was made for; None when taken, expired or someone else's."""
        with self._lock:
            held = self._held.get(ticket)
            if held is None or held.user_id != user_id:
                return None
            del self._held[ticket]
        return held.value if held.expires > time.monotonic() else None
