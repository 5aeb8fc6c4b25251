"""Everything the process runs besides the web server: database, queues, job runner, live hub,
scheduler, log housekeeping.

The launcher starts it before uvicorn listens and stops it after uvicorn has stopped accepting.
An app built without a runtime (tests, `create_app(settings)`) owns one in its lifespan instead.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from loguru import logger
from sqlmodel import select

from vcore_app import __version__, access, db
from vcore_app.auth.cache import CredentialCache
from vcore_app.auth.passwords import dummy_hash
from vcore_app.cluster import lease
from vcore_app.cluster.nodes import LOST, Nodes
from vcore_app.disk import DiskWatch, Level
from vcore_app.first_run import new_setup_token
from vcore_app.housekeeping import Housekeeping
from vcore_app.jobs import service
from vcore_app.jobs.executors import SHUTDOWN_GRACE_SECONDS, Controls
from vcore_app.jobs.queues import QueueSet, join_all
from vcore_app.jobs.runner import Runner
from vcore_app.live import Hub
from vcore_app.metrics import AppMetrics
from vcore_app.models import Boot, Job, JobStatus, pk, utcnow
from vcore_app.notify.sender import Sender
from vcore_app.plugins.manager import Plugins
from vcore_app.schedulers.service import Clock, SchedulerWiring
from vcore_app.schedulers.thread import SchedulerThread, fire_on_start, make_tick
from vcore_app.scripts.registry import ScriptRegistry
from vcore_app.settings import QUEUE_NAMES, Settings, SettingsError
from vcore_app.tools.registry import ToolRegistry
from vcore_app.users import ensure_first_superuser

if TYPE_CHECKING:
    from vcore_app.cluster.events import ClusterEvents

Role = Literal["all", "web", "worker"]


class Runtime:
    """`role`: "all" is the appliance (web server, workers, scheduler in one process); with worker
    nodes (QUEUE_URL, issue 20) a "web" node runs no workers (`serve --no-workers`) and a "worker"
    node only the workers of `worker_queues` (`vcore-app worker`), `workers` threads each."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock = utcnow,
        *,
        role: Role = "all",
        worker_queues: Sequence[str] = QUEUE_NAMES,
        workers: int | None = None,
    ) -> None:
        self.settings = settings
        self.role = role
        self.cluster = bool(settings.QUEUE_URL)
        self.engine = db.engine_for(settings)
        self.boot_id = uuid.uuid4().hex
        self.started_at = time.time()
        # Settings fill both paths in (DATA_DIR/huey_*.sqlite3) when they are not set.
        assert settings.HUEY_DEFAULT_SQLITE_PATH is not None and settings.HUEY_RESERVED_SQLITE_PATH is not None
        threads = {"default": settings.WORKERS_DEFAULT, "reserved": settings.WORKERS_RESERVED}
        if role == "web":
            threads = dict.fromkeys(QUEUE_NAMES, 0)
        elif role == "worker":
            threads = {name: (workers or threads[name]) if name in worker_queues else 0 for name in QUEUE_NAMES}
        self.worker_queues = [name for name in QUEUE_NAMES if threads[name]]
        self.queues = QueueSet(
            paths={"default": settings.HUEY_DEFAULT_SQLITE_PATH, "reserved": settings.HUEY_RESERVED_SQLITE_PATH},
            workers=threads,
            redis_url=settings.QUEUE_URL,
        )
        self.hub = Hub(engine=self.engine)
        # issue 19: the data disk's level; while full the queues take no new jobs (disk.py)
        self.disk = DiskWatch(
            settings.DATA_DIR,
            low_mb=settings.DISK_LOW_WARNING_MB,
            min_free_mb=settings.DISK_MIN_FREE_MB,
            on_change=self._disk_level_changed,
        )
        self.credentials = CredentialCache()  # issue 13: a credential is resolved once a second, not per request
        access.on_credentials_changed(self.engine, self.credentials.forget_user)
        self.controls = Controls()
        # plugins: imported here because the web layer builds its routes and templates from them
        self.plugins = Plugins(plugins_dir=settings.plugins_dir, env_name=settings.ENV_NAME)
        self.tools = ToolRegistry(self.plugins.quick_tools())
        self.events: ClusterEvents | None = None
        shipper = mirror = None
        if self.cluster:  # imported only here: the appliance never loads redis (issue 20)
            try:
                from vcore_app.cluster.events import ClusterEvents
            except ImportError:
                raise SettingsError(
                    "QUEUE_URL needs the Redis driver: pip install 'vcore-app[cluster]' "
                    "(the single binary leaves it out)"
                ) from None
            from vcore_app.cluster.logship import LogMirror, LogShipper

            self.events = ClusterEvents(
                settings.QUEUE_URL, hub=self.hub if role != "worker" else None, controls=self.controls
            )
            shipper = LogShipper(self.engine)
            mirror = LogMirror(self.engine, settings.log_mirror_dir)
        # Rights changes close open sockets (issue 12): with worker nodes, on every web node.
        access.listen(self.engine, (self.events or self.hub).drop_user)
        self.wiring = service.JobWiring(
            queues=self.queues,
            hub=self.events or self.hub,
            shipper=shipper,
            mirror=mirror,
            scripts=ScriptRegistry(self.plugins.scripts()),
            controls=self.controls,
            settings=settings,
            plugins=self.plugins,
            disk=self.disk,
        )
        self.plugins.on_change(self._refresh_registries)
        self.runner = Runner(engine=self.engine, wiring=self.wiring, boot_id=self.boot_id)
        self.queues.register(self.runner.run_job)
        self.clock = clock
        tick = make_tick(engine=self.engine, wiring=self.wiring, env_name=settings.ENV_NAME, clock=clock)
        if self.cluster:  # one web node fires the schedulers: the one holding the lease
            tick = lease.leading(
                tick, engine=self.engine, holder=self.boot_id, seconds=settings.SCHEDULER_FAILOVER_SECONDS
            )
        self.scheduler = SchedulerThread(tick)
        self.nodes = Nodes(
            engine=self.engine,
            wiring=self.wiring,
            boot_id=self.boot_id,
            role=role,
            queues=self.worker_queues,
            dead_after=settings.WORKER_DEAD_AFTER_SECONDS,
            cluster=self.cluster,
        )
        self.schedulers = SchedulerWiring(
            jobs=self.wiring, wake=self.scheduler.wake, clock=clock, default_timezone=settings.TIMEZONE
        )
        # While no user exists: the one-time token of /setup (first_run.py). Only ever in memory.
        self.setup_token: str | None = None
        # NOTIFY HOOK (issue 14): the outbox sender (started in start(), stopped in stop()).
        self.notifier = Sender(engine=self.engine, settings=settings)
        # issue 17: the one housekeeping task (it replaces the job-log retention thread), and metrics
        self.housekeeping = Housekeeping(engine=self.engine, settings=settings, idle=self.idle, clock=clock)
        self.metrics = AppMetrics(self)
        self._started = False
        self._paused_for_disk = False

    def start(self) -> None:
        """In order: migrate, record the boot and register the node, create the first superuser if
        configured, recover jobs a dead process left (before any consumer runs), start the consumers,
        fire the on-start schedulers (once per boot; with worker nodes, by the node that takes the
        scheduler lease as it starts), start the scheduler thread and housekeeping; then the plugins'
        on_startup. A worker node runs no web duties: no setup, notifications, scheduler or
        housekeeping. The plugins (and their scripts) were loaded in __init__: the web layer needs them."""
        web = self.role != "worker"
        db.migrate(self.settings.DB_URL)
        with db.session(self.engine) as session:
            session.add(Boot(id=self.boot_id, version=__version__, pid=os.getpid()))
        self.nodes.register()
        if web:
            self._first_user()
        if self.events is not None:
            self.events.start()
        if self.wiring.shipper is not None:
            self.wiring.shipper.start()
        alive = self.nodes.alive()
        # NOTIFY HOOK (issue 14): mirror the channel settings, queue the start message
        # (NOTIFY_ON_START), resend what a dead process left, start the sender. Before recover():
        # jobs it fails are notified.
        if web:
            self.notifier.start(self.boot_id, alive=alive)
        # With worker nodes, the processes of another node's jobs are not on this machine to end.
        service.recover(
            engine=self.engine,
            wiring=self.wiring,
            alive=alive,
            end_processes=not self.cluster,
            # With worker nodes, a running job of a node no longer beating is lost as the heartbeat says.
            reason=LOST if self.cluster else "interrupted by restart",
        )
        self.disk.start()  # before the consumers: a full disk pauses them from the start
        self.queues.start()
        self.nodes.start()
        if web:
            if not self.cluster or lease.hold(
                self.engine, name=lease.SCHEDULER, holder=self.boot_id, seconds=self.settings.SCHEDULER_FAILOVER_SECONDS
            ):
                fire_on_start(engine=self.engine, wiring=self.wiring, env_name=self.settings.ENV_NAME, now=self.clock())
            self.scheduler.start()
            self.housekeeping.start()
            threading.Thread(target=dummy_hash, name="warm-up", daemon=True).start()
        self._started = True
        self.plugins.notify("on_startup", settings=self.settings, runtime=self)
        logger.info(
            "runtime started (boot {}, {} node, data folder {})", self.boot_id, self.role, self.settings.DATA_DIR
        )

    def _first_user(self) -> None:
        ensure_first_superuser(settings=self.settings, engine=self.engine)
        with db.session(self.engine, readonly=True) as session:
            self.setup_token = new_setup_token(session=session)
        if self.setup_token:
            # The link itself goes to the console only (launcher): the log file never holds a secret.
            logger.warning(
                "no user exists yet: open the setup link printed on the console, "
                "or create one with `vcore-app users create --superuser`"
            )

    def stop(self) -> None:
        """Stop in order: scheduler, consumers (running jobs get SHUTDOWN_TIMEOUT), then the process
        groups of jobs still running (SIGTERM, SIGKILL), their jobs marked; then the node's row, the
        cluster links and the database."""
        if not self._started:
            return
        self._started = False
        self.plugins.notify("on_shutdown", settings=self.settings, runtime=self)
        self.scheduler.stop()
        if self.cluster and self.role != "worker":  # another web node takes over at once
            lease.release(self.engine, name=lease.SCHEDULER, holder=self.boot_id)
        self.housekeeping.stop()
        self.disk.stop()
        workers = self.queues.request_stop()
        if not join_all(workers, self.settings.SHUTDOWN_TIMEOUT):
            count = self.controls.stop_all("shutdown")
            logger.warning("ending {} jobs still running after {} s", count, self.settings.SHUTDOWN_TIMEOUT)
            if not join_all(workers, SHUTDOWN_GRACE_SECONDS + 1):
                self._interrupt_leftovers()
        self.queues.close()
        self.notifier.stop()  # NOTIFY HOOK (issue 14)
        self.nodes.stop()
        if self.wiring.shipper is not None:
            self.wiring.shipper.stop()
        if self.events is not None:
            self.events.stop()
        self.engine.dispose()
        logger.info("runtime stopped")

    def reload_plugins(self) -> str:
        """Re-import the data-folder plugins in place (see Plugins.reload); the sentence for the user."""
        return self.plugins.reload(settings=self.settings, runtime=self)

    def _refresh_registries(self) -> None:
        self.wiring.scripts.replace(self.plugins.scripts())
        self.tools.replace(self.plugins.quick_tools())

    def idle(self) -> bool:
        """No job runs and none waits: a moment for heavy maintenance (VACUUM)."""
        return not self.controls.running() and not any(
            status["running"] or status["pending"] for status in self.queues.status().values()
        )

    def _disk_level_changed(self, level: Level) -> None:
        """Full: the workers finish what they run and take nothing new, the scheduler waits. Room
        again: they resume, queued jobs whose queue message a failed write lost are enqueued again,
        and the scheduler fires what came due meanwhile."""
        if level == "full":
            self.queues.pause()
            self._paused_for_disk = True
        elif self._paused_for_disk:
            self._paused_for_disk = False
            self.queues.resume()
            if self._started:
                service.enqueue_missing(engine=self.engine, wiring=self.wiring)
                self.scheduler.wake()  # slots that came due while full (schedulers/thread.py)

    def ready(self) -> list[str]:
        """Why this runtime cannot take work now (empty: ready): /readyz answers 503 with these."""
        reasons = [] if db.ping(self.engine) else ["database does not answer"]
        if self.disk.full:
            reasons.append(self.disk.status.reason or "the data disk is full")
        for name, queue in self.queues.queues.items():
            if queue.stopped:
                reasons.append(f"consumer of queue {name} is not running")
        return reasons

    def _interrupt_leftovers(self) -> None:
        """Jobs whose worker is still stuck (an HTTP call) are settled now, not at the next start."""
        with db.session(self.engine, readonly=True) as session:
            stuck = session.exec(select(Job).where(Job.status == JobStatus.RUNNING, Job.boot_id == self.boot_id)).all()
        logs = {pk(job): self.wiring.log(pk(job)) for job in stuck}
        try:
            with db.session(self.engine) as session:
                for job in stuck:
                    service.interrupt(
                        session=session,
                        wiring=self.wiring,
                        job=job,
                        reason="interrupted by shutdown",
                        log=logs[pk(job)],
                    )
        finally:
            for log in logs.values():
                log.close()
