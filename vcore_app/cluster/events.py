"""Job events between nodes over Redis pub/sub: what one node's hub (live.py) did in-process.

Every node publishes its committed job changes, deletions, log lines, metrics events and changes
to a user's rights (whose sockets must close) on one channel, and every web node hands what it
receives to its own hub, so a browser on web node A sees, live, the log of a job that runs on worker C
and was created on web node B. A web node's own changes take the same way round, so there is one
path, not two. Kill requests travel on the same channel to every node; the one running the job stops it.

Pub/sub delivers at most once: a node that loses its Redis connection misses what was published
meanwhile. On reconnecting it sends its clients a fresh snapshot, and a kill missed this way is
still found by the node's heartbeat, which reads `stopping` of the jobs it runs (nodes.py).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import redis
from loguru import logger

from vcore_app.jobs.executors import Controls
from vcore_app.live import Hub
from vcore_app.models import Job

CHANNEL = "vcore.events"
_RECONNECT_SECONDS = 1.0


class ClusterEvents:
    """Implements jobs.service.JobEvents for a node with QUEUE_URL (see the module docstring).
    `hub` is None on a worker node (no web server); `controls` are the attempts running here."""

    def __init__(self, url: str, *, hub: Hub | None, controls: Controls) -> None:
        self._redis = redis.Redis.from_url(url)
        self._hub = hub
        self._controls = controls
        self._stopping = threading.Event()
        self._pubsub: Any = None
        self._thread = threading.Thread(target=self._listen, name="cluster-events", daemon=True)
        self._subscribed_once = False  # a subscription after the first one follows a lost connection

    # -- JobEvents: publish ---------------------------------------------------------------------------

    def job_changed(self, job: Job) -> None:
        self._publish({"type": "job", "job": job.model_dump(mode="json")})

    def job_deleted(self, job: Job) -> None:
        self._publish({"type": "deleted", "job": job.model_dump(mode="json")})

    def log_lines(self, job_id: int, offset: int, lines: list[str]) -> None:
        self._publish({"type": "log", "job_id": job_id, "offset": offset, "lines": lines})

    def notify(self, event: str, job: Job | None = None) -> None:
        self._publish({"type": "event", "event": event, "job": job.model_dump(mode="json") if job else None})

    def drop_user(self, user_id: int, code: int, reason: str, sessions_only: bool = False) -> None:
        """A change to a user's rights (access.py): every web node closes its sockets at once."""
        self._publish(
            {"type": "drop_user", "user_id": user_id, "code": code, "reason": reason, "sessions_only": sessions_only}
        )

    def kill(self, job_id: int) -> None:
        """Ask whichever node runs job `job_id` to end it (jobs.service.kill_job, after its commit)."""
        self._publish({"type": "kill", "job_id": job_id})

    def _publish(self, message: dict[str, Any]) -> None:
        try:
            self._redis.publish(CHANNEL, json.dumps(message))
        except redis.RedisError as exc:  # the change is committed; live viewers catch up on a snapshot
            logger.warning("could not publish a job event on Redis: {}", exc)

    # -- receive ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._pubsub is not None:
            self._pubsub.close()
        self._thread.join(5)
        self._redis.close()

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
                self._pubsub.subscribe(CHANNEL)
                if self._subscribed_once and self._hub is not None:
                    self._hub.refresh()  # back after a lost connection: what it missed is in a snapshot
                self._subscribed_once = True
                while not self._stopping.is_set():
                    message = self._pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._deliver(json.loads(message["data"]))
            except (redis.RedisError, OSError, ValueError) as exc:
                if self._stopping.is_set():
                    return
                logger.warning("lost the Redis event channel ({}); connecting again", exc)
                self._stopping.wait(_RECONNECT_SECONDS)

    def _deliver(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "kill":
            self._controls.stop(int(message["job_id"]), "killed")
            return
        hub = self._hub
        if hub is None:
            return
        if kind == "log":
            hub.log_lines(message["job_id"], message["offset"], message["lines"])
            return
        if kind == "drop_user":
            hub.drop_user(message["user_id"], message["code"], message["reason"], message["sessions_only"])
            return
        job = Job.model_validate(message["job"]) if message.get("job") else None
        if kind == "job" and job is not None:
            hub.job_changed(job)
        elif kind == "deleted" and job is not None:
            hub.job_deleted(job)
        elif kind == "event":
            hub.notify(message["event"], job)
