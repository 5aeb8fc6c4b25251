"""The two Huey queues, `default` and `reserved`: one SQLite file and one pool of worker threads each.

Huey runs in-process here, so two of its habits are changed:
- `Consumer.start()` installs SIGINT/SIGTERM/SIGHUP handlers; the launcher (uvicorn) owns signals.
- Idle workers poll the queue with a back-off: low latency costs idle CPU (a short poll interval
  keeps every idle thread waking up; docs/design.md, "Measured traps"). Being in
  the same process as every producer, we wake idle workers on enqueue instead, and poll only rarely
  as a safety net (e.g. for a task whose eta Huey's scheduler releases).

With QUEUE_URL (issue 20) both queues live on Redis instead, through Huey's own PriorityRedisHuey,
so worker nodes on other hosts take jobs from them: there, an idle worker blocks on Redis (BZPOPMIN,
one second at a time) and nobody in its process enqueues to wake it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from huey import PriorityRedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer, Worker
from loguru import logger

from vcore_app.settings import QUEUE_NAMES

_IDLE_POLL_SECONDS = 2.0
# Huey runs higher numbers first, FIFO within one number.
HUEY_PRIORITY = {"highest": 40, "high": 30, "normal": 20, "low": 10, "lowest": 0}
TASK_NAME = "run_job"


class _AppHueyMixin(Huey):
    """Wakes idle workers on enqueue and counts the tasks executing now."""

    def _app_init(self) -> None:
        self.wake = threading.Event()
        # Set while the data disk is full (disk.py): workers finish their task but take no new one.
        self.paused = threading.Event()
        self._running = 0
        self._lock = threading.Lock()

    def enqueue(self, task: Any) -> Any:
        result = super().enqueue(task)
        self.wake.set()
        return result

    def execute(self, task: Any, timestamp: Any = None) -> Any:
        with self._lock:
            self._running += 1
        try:
            return super().execute(task, timestamp)
        finally:
            with self._lock:
                self._running -= 1

    @property
    def running(self) -> int:
        return self._running


class AppHuey(_AppHueyMixin, SqliteHuey):
    """A queue in its own SQLite file, for this process's workers."""

    def __init__(self, name: str, filename: Path) -> None:
        super().__init__(name=name, filename=str(filename), fsync=False)
        self._app_init()


class RedisAppHuey(_AppHueyMixin, PriorityRedisHuey):
    """A queue on Redis (QUEUE_URL), shared by every node. Dequeue blocks up to a second, so an idle
    worker needs no sleep of its own between looks."""

    def __init__(self, name: str, url: str) -> None:
        super().__init__(name=f"vcore_{name}", url=url, blocking=True, read_timeout=1)
        self._app_init()


class QueueUnavailable(Exception):
    """A queue's storage does not answer (Redis away): one line for the log."""


class _WakingWorker(Worker):
    def loop(self, now: Any = None) -> None:
        if self.huey.paused.is_set():
            self.sleep()  # woken on resume (and on enqueue, to look again)
            return
        super().loop(now)

    def sleep(self) -> None:
        if self.huey.storage.blocking and not self.huey.paused.is_set():
            # Redis: a worker sleeps only after a read failed (Redis away): Huey's growing pause,
            # not a busy loop logging the same error.
            super().sleep()
            return
        if self.huey.wake.wait(_IDLE_POLL_SECONDS):
            self.huey.wake.clear()


class _InProcessConsumer(Consumer):
    worker_class = _WakingWorker

    def _set_signal_handlers(self) -> None:
        """The launcher owns the process's signals; see the module docstring."""


class Queue:
    """One named queue: its Huey instance and, while started, its consumer threads."""

    def __init__(self, name: str, huey: AppHuey | RedisAppHuey, workers: int) -> None:
        self.name = name
        self.huey = huey
        self.workers = workers
        self._consumer: Consumer | None = None
        self._task: Any = None

    def register(self, run_job: Callable[[int], None]) -> None:
        """The one task of every queue: it carries a job id, the database carries the rest."""
        self._task = self.huey.task(name=TASK_NAME)(run_job)

    def enqueue(self, job_id: int, priority: str, eta: datetime | None = None) -> None:
        self.huey.enqueue(self._task.s(job_id, priority=HUEY_PRIORITY[priority], eta=eta))

    def enqueue_many(self, items: list[tuple[int, str]]) -> None:
        """(job id, priority) pairs in one write transaction: a batch of 1,000 jobs costs one commit
        of Huey's SQLite file, not 1,000. The rows are the ones SqliteStorage.enqueue writes."""
        if not isinstance(self.huey, AppHuey):  # Redis: a ZADD each, no transaction to save
            for job_id, priority in items:
                self.enqueue(job_id, priority)
            return
        storage = self.huey.storage
        rows = []
        for job_id, priority in items:
            task = self._task.s(job_id, priority=HUEY_PRIORITY[priority])
            rows.append((storage.name, storage.to_blob(self.huey.serialize_task(task)), task.priority or 0))
        with storage.db(commit=True) as cursor:
            cursor.executemany("insert into task (queue, data, priority) values (?, ?, ?)", rows)
        self.huey.wake.set()

    def waiting_job_ids(self) -> set[int]:
        """Job ids in Huey's storage: queued now or scheduled for later (a retry's delay). Raises
        QueueUnavailable when the storage does not answer (Redis away, issue 20)."""
        try:
            tasks = [*self.huey.pending(), *self.huey.scheduled()]
        except Exception as exc:
            raise QueueUnavailable(f"queue {self.name}: its storage does not answer: {exc}") from exc
        return {task.args[0] for task in tasks if task.args}

    @property
    def consuming(self) -> bool:
        return self._consumer is not None

    @property
    def stopped(self) -> bool:
        """It has workers in this process but they were stopped; a web node's queues (no workers
        here, issue 20) are never stopped."""
        return bool(self.workers) and not self.consuming

    def start(self) -> None:
        if self._consumer is not None or self.workers == 0:
            return
        consumer = _InProcessConsumer(
            self.huey, workers=self.workers, worker_type="thread", periodic=False, check_worker_health=False
        )
        consumer.scheduler.name = f"{self.name}-scheduler"
        for index, (_, thread) in enumerate(consumer.worker_threads, start=1):
            thread.name = f"{self.name}-worker-{index}"
        consumer.start()
        self._consumer = consumer

    def request_stop(self) -> list[threading.Thread]:
        """Ask the threads to stop after their current task; return them for joining."""
        consumer, self._consumer = self._consumer, None
        if consumer is None:
            return []
        consumer.stop_flag.set()
        self.huey.wake.set()
        return [consumer.scheduler] + [thread for _, thread in consumer.worker_threads]

    def pause(self) -> None:
        self.huey.paused.set()

    def resume(self) -> None:
        self.huey.paused.clear()
        self.huey.wake.set()

    def status(self) -> dict[str, Any]:
        """Its workers and counts; `pending` and `scheduled` are None while its storage does not
        answer (Redis away, issue 20), so the pages that show them still answer."""
        try:
            pending, scheduled = self.huey.pending_count(), self.huey.scheduled_count()
        except Exception as exc:
            logger.warning("queue {}: its storage does not answer: {}", self.name, exc)
            pending = scheduled = None
        return {
            "workers": self.workers,
            "consuming": self.consuming,
            "paused": self.huey.paused.is_set(),
            "running": self.huey.running,
            "pending": pending,
            "scheduled": scheduled,
        }


def join_all(threads: list[threading.Thread], timeout: float) -> bool:
    """Join threads against one shared deadline; True when all have ended."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    return not any(thread.is_alive() for thread in threads)


class QueueSet:
    """Both queues, started and stopped together."""

    def __init__(self, *, paths: dict[str, Path], workers: dict[str, int], redis_url: str = "") -> None:
        """Each queue in its SQLite file of `paths`, or on Redis at `redis_url` (QUEUE_URL)."""
        self.queues = {
            name: Queue(name, RedisAppHuey(name, redis_url) if redis_url else AppHuey(name, paths[name]), workers[name])
            for name in QUEUE_NAMES
        }

    def __getitem__(self, name: str) -> Queue:
        return self.queues[name]

    def register(self, run_job: Callable[[int], None]) -> None:
        for queue in self.queues.values():
            queue.register(run_job)

    def enqueue(self, queue_name: str, job_id: int, priority: str, eta: datetime | None = None) -> None:
        self.queues[queue_name].enqueue(job_id, priority, eta)

    def enqueue_many(self, queue_name: str, items: list[tuple[int, str]]) -> None:
        self.queues[queue_name].enqueue_many(items)

    def waiting_job_ids(self) -> set[int]:
        return set().union(*(queue.waiting_job_ids() for queue in self.queues.values()))

    def start(self) -> None:
        for queue in self.queues.values():
            queue.start()

    def pause(self) -> None:
        """Workers finish the job they run but take no new one, until resume(); the scheduler
        thread and the API may still enqueue (the jobs wait)."""
        for queue in self.queues.values():
            queue.pause()

    def resume(self) -> None:
        for queue in self.queues.values():
            queue.resume()

    def request_stop(self) -> list[threading.Thread]:
        return [thread for queue in self.queues.values() for thread in queue.request_stop()]

    def status(self) -> dict[str, dict[str, Any]]:
        return {name: queue.status() for name, queue in self.queues.items()}

    def close(self) -> None:
        for queue in self.queues.values():
            if isinstance(queue.huey, AppHuey):
                queue.huey.storage.close()
            else:
                queue.huey.storage.pool.disconnect()
