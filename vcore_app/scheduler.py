"""The scheduler thread: sleeps until the next due time, wakes early when schedulers change.

`tick()` does the work and returns how many seconds to sleep (None: until woken).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from loguru import logger

Tick = Callable[[], "float | None"]


class SchedulerThread:
    def __init__(self, tick: Tick | None = None) -> None:
        self._tick = tick or (lambda: None)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> bool:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                delay = self._tick()
            except Exception:
                logger.exception("scheduler tick failed; trying again in 5 s")
                delay = 5.0
            self._wake.wait(delay)
            self._wake.clear()
