"""This process as a node in the `worker` table: registered at start, a heartbeat while it runs,
removed at a clean stop. `GET /api/v1/workers`, the dashboard and /metrics list the rows.

With QUEUE_URL (several nodes), each heartbeat also:
- recovers nodes that stopped beating for WORKER_DEAD_AFTER_SECONDS: the row is marked lost by one
  guarded UPDATE (one node wins; the dashboard shows it lost for a day), then its running jobs are
  settled as after a crash (queued again while attempts remain, else failed "worker lost"; a kill
  under way ends as asked), and queued jobs whose Redis message it had taken are enqueued again;
- notices when this node itself was declared lost (its row is gone: a long pause, a network cut):
  it ends its running jobs' processes, whose outcome the ledger no longer takes from it (the runner's
  record is guarded by boot and attempt), and registers again;
- ends jobs running here whose `stopping` says killed: a kill request missed on Redis still arrives.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from loguru import logger
from sqlalchemy import Engine, delete, func, update
from sqlmodel import Session, col, select

from vcore_app import db
from vcore_app.cluster.lease import SCHEDULER
from vcore_app.jobs import service
from vcore_app.jobs.queues import QueueUnavailable
from vcore_app.jobs.service import JobWiring
from vcore_app.models import Job, JobStatus, Lease, Worker, utcnow

_MAX_BEAT_SECONDS = 5.0
LOST = "worker lost"


class Nodes:
    def __init__(
        self,
        *,
        engine: Engine,
        wiring: JobWiring,
        boot_id: str,
        role: str,
        queues: list[str],
        dead_after: float,
        cluster: bool,
    ) -> None:
        self.engine = engine
        self.wiring = wiring
        self.boot_id = boot_id
        self.role = role
        self.queues = queues
        self.dead_after = dead_after
        self.cluster = cluster
        self.host = socket.gethostname()
        self.interval = min(dead_after / 4, _MAX_BEAT_SECONDS)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)
        self._next_sweep = 0.0

    def register(self) -> None:
        """Add this node. In one process (no QUEUE_URL) every other row is a past boot: gone."""
        with db.session(self.engine) as session:
            if not self.cluster:
                session.execute(delete(Worker).where(col(Worker.id) != self.boot_id))
            session.merge(
                Worker(
                    id=self.boot_id,
                    host=self.host[:255],
                    pid=os.getpid(),
                    role=self.role,
                    queues=",".join(self.queues),
                )
            )

    def alive(self) -> set[str]:
        """The boot ids of the nodes not declared lost (this one included). A node gone silent counts
        until a heartbeat declares it lost: that marks its row first, so if it comes back it knows
        its jobs were taken (see _recover_lost), which settling them here at start would not."""
        if not self.cluster:
            return {self.boot_id}
        with db.session(self.engine, readonly=True) as session:
            ids = session.exec(select(Worker.id).where(col(Worker.lost_at).is_(None))).all()
        return {*ids, self.boot_id}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        try:
            with db.session(self.engine) as session:
                session.execute(delete(Worker).where(col(Worker.id) == self.boot_id))
        except Exception as exc:  # the database is gone too: the others see the row go stale
            logger.warning("could not remove this node from the worker table: {}", exc)

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.beat()
            except Exception:
                logger.exception("heartbeat failed; trying again in {} s", self.interval)

    def beat(self) -> None:
        with db.session(self.engine) as session:
            result = session.execute(
                update(Worker)
                .where(col(Worker.id) == self.boot_id, col(Worker.lost_at).is_(None))
                .values(last_seen=utcnow()),
                execution_options={"synchronize_session": False},
            )
        if not result.rowcount:  # type: ignore[attr-defined]
            self._come_back()
        if self.cluster:
            self._recover_lost()
            self._end_killed()
            self._sweep_queued()

    def _come_back(self) -> None:
        ended = self.wiring.controls.stop_all(LOST)
        logger.warning(
            "this node was declared lost (no heartbeat for {} s); ended its {} running jobs, registering again",
            self.dead_after,
            ended,
        )
        self.register()

    def _recover_lost(self) -> None:
        now = utcnow()
        cutoff = now - timedelta(seconds=self.dead_after)
        with db.session(self.engine, readonly=True) as session:
            lost = session.exec(
                select(Worker).where(
                    col(Worker.last_seen) < cutoff, col(Worker.lost_at).is_(None), col(Worker.id) != self.boot_id
                )
            ).all()
        recovered = False
        for node in lost:
            with db.session(self.engine) as session:
                won = session.execute(
                    update(Worker)
                    .where(col(Worker.id) == node.id, col(Worker.last_seen) < cutoff, col(Worker.lost_at).is_(None))
                    .values(lost_at=now),
                    execution_options={"synchronize_session": False},
                ).rowcount  # type: ignore[attr-defined]
                # Lost a day ago: enough time to have been seen on the dashboard.
                session.execute(delete(Worker).where(col(Worker.lost_at) < now - timedelta(days=1)))
            if not won:
                continue  # another node recovers it, or it came back
            with db.session(self.engine, readonly=True) as session:
                jobs = session.exec(
                    select(Job).where(col(Job.status) == JobStatus.RUNNING, col(Job.boot_id) == node.id)
                ).all()
            logger.warning(
                "node {} ({} pid {}) sent no heartbeat for {} s: lost; recovering its {} running jobs",
                node.id,
                node.host,
                node.pid,
                self.dead_after,
                len(jobs),
            )
            service.settle_lost(
                engine=self.engine, wiring=self.wiring, jobs=jobs, reason=LOST, end_processes=node.host == self.host
            )
            recovered = True
        if recovered:  # a Redis message it had taken but not yet claimed would be lost with it
            service.enqueue_missing(engine=self.engine, wiring=self.wiring)

    def _sweep_queued(self) -> None:
        """Once per WORKER_DEAD_AFTER_SECONDS, by the node holding the scheduler lease: enqueue jobs
        long `queued` whose Redis message is gone (enqueued while Redis was away, or taken by a node
        that died before claiming it)."""
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.dead_after
        with db.session(self.engine, readonly=True) as session:
            held = session.get(Lease, SCHEDULER)
        if held is None or held.holder != self.boot_id:
            return
        before = utcnow() - timedelta(seconds=self.dead_after)
        try:
            count = service.enqueue_missing(engine=self.engine, wiring=self.wiring, queued_before=before)
        except QueueUnavailable as exc:  # Redis away: the next sweep tries again
            logger.warning("{}", exc)
            return
        if count:
            logger.warning("enqueued {} queued jobs again: their queue message was lost", count)

    def _end_killed(self) -> None:
        running = self.wiring.controls.running()
        if not running:
            return
        with db.session(self.engine, readonly=True) as session:
            stopping = session.exec(
                select(Job.id, Job.stopping).where(col(Job.id).in_(running), col(Job.stopping).is_not(None))
            ).all()
        for job_id, reason in stopping:
            if job_id is not None and reason and reason.startswith("killed"):
                self.wiring.controls.stop(job_id, "killed")


@dataclass(frozen=True)
class NodeState:
    """A node as GET /api/v1/workers, the dashboard and /metrics show it."""

    id: str
    host: str
    pid: int
    role: str
    queues: list[str]
    started_at: datetime
    last_seen: datetime
    running: int  # jobs running on it now
    alive: bool  # its heartbeat is younger than WORKER_DEAD_AFTER_SECONDS
    scheduler: bool  # it holds the scheduler lease (with QUEUE_URL), or fires them alone


def node_states(*, session: Session, dead_after: float) -> list[NodeState]:
    now = utcnow()
    cutoff = now - timedelta(seconds=dead_after)
    lease = session.get(Lease, SCHEDULER)
    leader = lease.holder if lease is not None and lease.expires_at > now else None
    running = dict(
        session.exec(
            select(Job.boot_id, func.count()).where(col(Job.status) == JobStatus.RUNNING).group_by(col(Job.boot_id))
        ).all()
    )
    return [
        NodeState(
            id=node.id,
            host=node.host,
            pid=node.pid,
            role=node.role,
            queues=[name for name in node.queues.split(",") if name],
            started_at=node.started_at,
            last_seen=node.last_seen,
            running=running.get(node.id, 0),
            alive=node.lost_at is None and node.last_seen >= cutoff,
            scheduler=node.id == leader or (leader is None and node.role == "all"),
        )
        for node in session.exec(select(Worker).order_by(col(Worker.started_at))).all()
    ]
