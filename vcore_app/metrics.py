"""What `/metrics` reports, in Prometheus text format through prometheus-client.

Counting costs nothing at start: events land in plain counters and histograms here (a lock and an
add), and prometheus-client is imported on the first scrape only (its import costs ~60-100 ms on
this machine, mostly `http.server` and `wsgiref` pulled in by its exposition module). Each app owns
its registry, never prometheus-client's global one, so several apps in one test process do not mix.

Sources, each fed from one place:
- jobs: the live hub's observers (live.py), called after the commit of every creation and every
  status transition (jobs/service.py `create_job`, `transition`): created, finished by final status,
  and the duration of finished attempts;
- scheduler fires (jobs it created) and misses (a slot skipped by its misfire or overlap policy);
- HTTP: `HttpMetrics` below, labelled by route template (`/api/v1/jobs/{job_id:int}`), never by path;
- at scrape time: queue depth and busy workers, WebSocket clients, process RSS/CPU/open files
  (prometheus-client's ProcessCollector), sizes of the SQLite files and their WALs, housekeeping.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from starlette.routing import Match
from starlette.types import Scope

from vcore_app import db
from vcore_app.cluster.nodes import node_states
from vcore_app.models import Job, JobStatus, utcnow

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from vcore_app.housekeeping import Housekeeping
    from vcore_app.jobs.queues import QueueSet
    from vcore_app.live import Hub
    from vcore_app.settings import Settings


class Runtime(Protocol):
    """What the metrics read of the app's runtime (runtime.py builds one AppMetrics from itself;
    a Protocol, so this module does not import runtime.py back)."""

    settings: Settings
    engine: Engine
    queues: QueueSet
    hub: Hub
    housekeeping: Housekeeping


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
JOB_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, float("inf"))
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, float("inf"))
_FINISHED = frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED})
_UNMATCHED = "<unmatched>"


class _Counter:
    """label values -> count; thread-safe."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def inc(self, *labels: str, by: float = 1.0) -> None:
        with self._lock:
            self.values[labels] = self.values.get(labels, 0.0) + by

    def items(self) -> list[tuple[tuple[str, ...], float]]:
        with self._lock:
            return list(self.values.items())


class _Histogram:
    """label values -> (cumulative bucket counts, sum); thread-safe."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.values: dict[tuple[str, ...], tuple[list[int], float]] = {}
        self._lock = threading.Lock()

    def observe(self, value: float, *labels: str) -> None:
        with self._lock:
            counts, total = self.values.get(labels) or ([0] * len(self.buckets), 0.0)
            for index, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[index] += 1
            self.values[labels] = (counts, total + value)

    def items(self) -> list[tuple[tuple[str, ...], list[int], float]]:
        with self._lock:
            return [(labels, list(counts), total) for labels, (counts, total) in self.values.items()]


def _seconds(job: Job) -> float | None:
    if job.started_at is None or job.finished_at is None:
        return None
    return max((job.finished_at - job.started_at).total_seconds(), 0.0)


class AppMetrics:
    """The counters of one runtime, and its registry (made on the first scrape)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.jobs_created = _Counter()
        self.jobs_finished = _Counter()
        self.job_duration = _Histogram(JOB_BUCKETS)
        self.scheduler = _Counter()
        self.http_requests = _Counter()
        self.http_duration = _Histogram(HTTP_BUCKETS)
        self._registry: Any = None
        self._registry_lock = threading.Lock()
        runtime.hub.observers.append(self.observe)

    def observe(self, event: str, job: Job | None) -> None:
        """A hub event (live.py): count creations, fires, misses and finished attempts."""
        if event == "job.created" and job is not None:
            self.jobs_created.inc(job.type, job.queue_name)
            if job.scheduler_id is not None:
                self.scheduler.inc("fired")
        elif event == "job.moved" and job is not None and job.status in _FINISHED:
            self.jobs_finished.inc(job.type, job.queue_name, job.status)
            seconds = _seconds(job)
            if seconds is not None:
                self.job_duration.observe(seconds, job.type, job.queue_name)
        elif event in ("scheduler.missed", "scheduler.skipped"):
            self.scheduler.inc(event.removeprefix("scheduler."))

    def request_done(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.inc(method, route, str(status))
        self.http_duration.observe(seconds, method, route)

    def render(self) -> bytes:
        """The text exposition of this app's registry (prometheus-client imported here, once)."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry())

    def registry(self) -> Any:
        with self._registry_lock:
            if self._registry is None:
                from prometheus_client import CollectorRegistry, ProcessCollector

                registry = CollectorRegistry(auto_describe=False)
                ProcessCollector(namespace="", registry=registry)  # process_resident_memory_bytes, ...
                registry.register(_Collector(self, self._runtime))
                self._registry = registry
            return self._registry


class _Collector:
    """Builds the metric families at scrape time from the counters and the runtime's state."""

    def __init__(self, metrics: AppMetrics, runtime: Runtime) -> None:
        self._metrics = metrics
        self._runtime = runtime

    def describe(self) -> list[Any]:
        return []  # families are built on collect; nothing to check for name clashes up front

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        m = self._metrics
        yield _counter(
            CounterMetricFamily,
            "vcore_jobs_created",
            "Jobs created, by type and queue.",
            ["type", "queue"],
            m.jobs_created,
        )
        yield _counter(
            CounterMetricFamily,
            "vcore_jobs_finished",
            "Jobs that reached a final status.",
            ["type", "queue", "status"],
            m.jobs_finished,
        )
        yield _histogram(
            "vcore_job_duration_seconds", "Run time of finished attempts.", ["type", "queue"], m.job_duration
        )
        yield _counter(
            CounterMetricFamily,
            "vcore_scheduler_runs",
            "Scheduler slots: fired, missed (misfire policy skip) or skipped (overlap policy skip).",
            ["outcome"],
            m.scheduler,
        )
        yield _counter(
            CounterMetricFamily,
            "vcore_http_requests",
            "HTTP requests by route template and status.",
            ["method", "route", "status"],
            m.http_requests,
        )
        yield _histogram(
            "vcore_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["method", "route"],
            m.http_duration,
        )
        yield from self._gauges(GaugeMetricFamily)

    def _gauges(self, gauge: Any) -> Iterator[Any]:
        runtime = self._runtime
        depth = gauge("vcore_queue_depth", "Tasks waiting in a queue (not scheduled for later).", labels=["queue"])
        scheduled = gauge("vcore_queue_scheduled", "Tasks waiting for their time (retry delays).", labels=["queue"])
        busy = gauge("vcore_workers_busy", "Worker threads running a job now.", labels=["queue"])
        workers = gauge("vcore_workers", "Worker threads of a queue.", labels=["queue"])
        consuming = gauge("vcore_consumer_running", "1 while the queue's consumer runs.", labels=["queue"])
        for name, status in runtime.queues.status().items():
            if status["pending"] is not None:  # None: its storage (Redis) does not answer
                depth.add_metric([name], status["pending"])
                scheduled.add_metric([name], status["scheduled"])
            busy.add_metric([name], status["running"])
            workers.add_metric([name], status["workers"])
            consuming.add_metric([name], 1 if status["consuming"] else 0)
        yield from (depth, scheduled, busy, workers, consuming)
        yield gauge("vcore_websocket_clients", "Open WebSocket clients.", value=runtime.hub.client_count)
        yield from self._nodes(gauge)
        files = gauge(
            "vcore_sqlite_bytes", "Size of the SQLite files: the database and its WAL.", labels=["database", "file"]
        )
        for database, path in sqlite_files(runtime).items():
            for kind, suffix in (("main", ""), ("wal", "-wal")):
                files.add_metric([database, kind], _size(Path(f"{path}{suffix}")))
        yield files
        last = runtime.housekeeping.last
        if last is not None:
            yield gauge(
                "vcore_housekeeping_last_run_timestamp_seconds",
                "When housekeeping last finished.",
                value=last.finished_at.timestamp(),
            )
            removed = gauge(
                "vcore_housekeeping_last_removed", "What the last housekeeping run removed.", labels=["kind"]
            )
            for kind, count in (("jobs", last.jobs), ("logs", last.logs), ("audit", last.audit)):
                removed.add_metric([kind], count)
            yield removed

    def _nodes(self, gauge: Any) -> Iterator[Any]:
        """issue 20: every node of the ledger, whichever node is scraped."""
        runtime = self._runtime
        with db.session(runtime.engine, readonly=True) as session:
            nodes = node_states(session=session, dead_after=runtime.settings.WORKER_DEAD_AFTER_SECONDS)
        labels = ["node", "host", "role"]
        alive = gauge("vcore_node_alive", "1 while a node sends its heartbeat, 0 once it is lost.", labels=labels)
        age = gauge("vcore_node_heartbeat_age_seconds", "Seconds since a node's last heartbeat.", labels=labels)
        running = gauge("vcore_node_running_jobs", "Jobs running on a node now.", labels=labels)
        now = utcnow()
        for node in nodes:
            names = [node.id, node.host, node.role]
            alive.add_metric(names, 1 if node.alive else 0)
            age.add_metric(names, max((now - node.last_seen).total_seconds(), 0.0))
            running.add_metric(names, node.running)
        yield from (alive, age, running)


def sqlite_files(runtime: Runtime) -> dict[str, Path]:
    """The SQLite files of this runtime: the app database and one per queue."""
    settings = runtime.settings
    found: dict[str, Path] = {}
    if settings.DB_URL.startswith("sqlite:///"):
        found["app"] = Path(settings.DB_URL.removeprefix("sqlite:///"))
    for name, queue in runtime.queues.queues.items():
        filename = getattr(queue.huey.storage, "filename", None)  # none: the queue is on Redis (QUEUE_URL)
        if filename:
            found[f"huey_{name}"] = Path(filename)
    return found


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _counter(family: Any, name: str, documentation: str, labels: list[str], counter: _Counter) -> Any:
    metric = family(name, documentation, labels=labels)
    for values, count in sorted(counter.items()):
        metric.add_metric(list(values), count)
    return metric


def _histogram(name: str, documentation: str, labels: list[str], histogram: _Histogram) -> Any:
    from prometheus_client.core import HistogramMetricFamily

    metric = HistogramMetricFamily(name, documentation, labels=labels)
    for values, counts, total in sorted(histogram.items()):
        buckets = [(_bound(bound), count) for bound, count in zip(histogram.buckets, counts, strict=True)]
        metric.add_metric(list(values), buckets, total)
    return metric


def _bound(value: float) -> str:
    """A bucket's `le` label as Prometheus writes it: `+Inf`, `0.5`, `60.0`."""
    return "+Inf" if value == float("inf") else repr(float(value))


class HttpMetrics:
    """Counts and times HTTP requests by route template and status. RequestLog (web/middleware.py)
    measures each request once and tells both the log and this.

    The template comes from matching the app's routes, remembered per path (bounded), so an id in
    a path never becomes a label value of its own.
    """

    _CACHE_LIMIT = 4096

    def __init__(self, metrics: AppMetrics) -> None:
        self.metrics = metrics
        self._templates: dict[tuple[str, str], str] = {}

    def record(self, scope: Scope, status: int, seconds: float) -> None:
        self.metrics.request_done(scope["method"], self._template(scope), status, seconds)

    def _template(self, scope: Scope) -> str:
        key = (scope["method"], scope["path"])
        found = self._templates.get(key)
        if found is None:
            found = _UNMATCHED
            for route in scope["app"].routes:
                match, _child = route.matches(scope)
                if match is Match.FULL:
                    found = getattr(route, "path", _UNMATCHED)
                    break
            if len(self._templates) >= self._CACHE_LIMIT:
                self._templates.clear()
            self._templates[key] = found
        return found
