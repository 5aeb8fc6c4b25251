"""Login throttling: 5 failures per username or 20 per client address within 10 minutes -> 429.

Our own sliding window rather than the `limits` library: one process holds all the state, the
whole job is "count recent failures per key", and a dozen lines of ours beat a dependency whose
fixed-window default would let a burst through at each window edge. Only failures count, so
successful logins are never slowed; a success clears its username's failures. A locked-out
username also refuses the right password until the window passes: otherwise the answer (200 vs
429) would keep telling a guesser when it is right.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from vcore_app.errors import AppError

WINDOW_SECONDS = 600.0
PER_USERNAME = 5
PER_ADDRESS = 20
# Past this many tracked keys (a spray of made-up usernames), idle ones are swept out.
_SWEEP_ABOVE = 10_000


class SlidingWindow:
    """At most `limit` events per key within the last `window` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.get(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def retry_after(self, key: str) -> float:
        """Seconds until another event is allowed for `key`; 0 when it is allowed now."""
        now = time.monotonic()
        with self._lock:
            events = self._recent(key, now)
            return events[0] + self.window - now if len(events) >= self.limit else 0.0

    def hit(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._events) > _SWEEP_ABOVE:
                self._events = {k: v for k, v in self._events.items() if self._recent(k, now)}
            events = self._recent(key, now)
            events.append(now)
            self._events[key] = events

    def clear(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


class LoginThrottle:
    def __init__(self) -> None:
        self.by_username = SlidingWindow(PER_USERNAME, WINDOW_SECONDS)
        self.by_address = SlidingWindow(PER_ADDRESS, WINDOW_SECONDS)

    def check(self, username: str, address: str) -> None:
        """Raise 429 with Retry-After when either the username or the address is locked out."""
        wait = max(self.by_username.retry_after(username.lower()), self.by_address.retry_after(address))
        if wait > 0:
            raise AppError(
                "Too many failed logins; try again later", 429, headers={"Retry-After": str(math.ceil(wait))}
            )

    def failed(self, username: str, address: str) -> None:
        self.by_username.hit(username.lower())
        self.by_address.hit(address)

    def succeeded(self, username: str) -> None:
        self.by_username.clear(username.lower())
