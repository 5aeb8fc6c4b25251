"""The live hub behind the WebSocket `/api/v1/ws/job-queue` (the endpoint is web/live.py).

Worker threads publish (`job_changed`, `log_lines`); the hub hops into the event loop with
`call_soon_threadsafe` and never blocks them. Each client has its own sender task and a bounded
outbox: a client that stops reading stalls only itself, and on overflow its outbox is dropped and
replaced by one fresh snapshot. A job's change that finds an older one of the same job still unsent
takes its place (issue 20): a burst of 1,000 jobs going queued, running, done costs a slow client one
message per job, not three, and it still ends with every job's last state. Snapshots
(`{"jobs": [...], "total": N}`, the first page as `GET /jobs/` gives it) are coalesced to at most
one per SNAPSHOT_INTERVAL per client, however many jobs change, and built once per change for every
client that sees the same jobs.

A socket's rights follow its user (issue 12): a change to them closes the user's sockets at once
(`drop_user`, told by access.py), and each socket asks its credential again until it expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from loguru import logger
from sqlalchemy import Engine
from starlette.websockets import WebSocket, WebSocketDisconnect

from vcore_app import access, db
from vcore_app.errors import AppError
from vcore_app.jobs import service
from vcore_app.jobs.views import JobSummary
from vcore_app.models import ID_MAX, Job, User

SNAPSHOT_INTERVAL = 0.1
OUTBOX_LIMIT_BYTES = 1_000_000
PAGE_SIZE = 50
# issue 12: how often an open socket checks its credential again (expiry is also met on time);
# changes made in this process close sockets at once (Hub.drop_user), this catches the rest (the CLI).
RECHECK_SECONDS = 5.0


@dataclass(frozen=True)
class Credential:
    """How a socket proved who it is, and how to ask again (the endpoint, web/live.py, fills it in).
    Both calls block (database): the hub runs them in a thread."""

    via: str  # "token", "cookie" or "api_key"
    expiry: Callable[[], float | None]  # when it expires (Unix time); None if never or no longer valid
    user: Callable[[], User | None]  # the active user it stands for now, None if none


class _Client:
    def __init__(self, websocket: WebSocket, user: User, via: str) -> None:
        self.websocket = websocket
        self.user = user
        self.via = via  # how it authenticated: "token", "cookie", "api_key"
        self.closing = False
        self.owner = service.owner_filter(user)
        # Unsent messages in order; a job's change is keyed by its job, so a newer one replaces it.
        self.outbox: OrderedDict[object, str] = OrderedDict()
        self.outbox_bytes = 0
        self.wake = asyncio.Event()
        self.needs_snapshot = True
        self.last_snapshot = 0.0
        self.logs: set[int] = set()

    def sees(self, created_by: int | None) -> bool:
        return self.owner is None or created_by == self.owner

    def offer(self, text: str, job_id: int | None = None) -> None:
        key: object = ("job", job_id) if job_id is not None else object()
        replaced = self.outbox.get(key)
        growth = len(text) - (len(replaced) if replaced is not None else 0)
        if self.outbox_bytes + growth > OUTBOX_LIMIT_BYTES:
            self.outbox.clear()  # too slow to keep up: what it missed is in the next snapshot
            self.outbox_bytes = 0
            self.needs_snapshot = True
        else:
            self.outbox[key] = text  # a replaced change keeps its place in the order
            self.outbox_bytes += growth
        self.wake.set()

    def take(self) -> str:
        text = self.outbox.popitem(last=False)[1]
        self.outbox_bytes -= len(text)
        return text

    def mark_changed(self) -> None:
        self.needs_snapshot = True
        self.wake.set()


class Hub:
    """Implements jobs.service.JobEvents: the job service tells it about committed changes."""

    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: set[_Client] = set()
        self._log_watchers: dict[int, set[_Client]] = {}
        self._generation = 0
        self._snapshots: dict[int | None, tuple[int, str]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Called on the publishing thread, after the commit, with an event and its job (if any):
        # "job.created", "job.moved" (a status transition), "scheduler.missed", "scheduler.skipped".
        # metrics.py counts and times jobs here (issue 17).
        self.observers: list[Callable[[str, Job | None], None]] = []

    @property
    def client_count(self) -> int:
        return len(self._clients)

    # -- any thread -------------------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._loop = loop

    def notify(self, event: str, job: Job | None = None) -> None:
        for observer in self.observers:
            try:
                observer(event, job)
            except Exception:
                logger.exception("job observer {!r} failed", observer)

    def job_changed(self, job: Job) -> None:
        self._post(self._fan_out_job, job.created_by, json.dumps({"job": JobSummary.of(job)}), job.id)

    def job_deleted(self, job: Job) -> None:
        self._post(self._fan_out_job, job.created_by, json.dumps({"job": {"id": job.id, "deleted": True}}), job.id)

    def log_lines(self, job_id: int, offset: int, lines: list[str]) -> None:
        if job_id in self._log_watchers:  # no decode, no hop for a log nobody watches
            message = json.dumps({"log": {"job_id": job_id, "offset": offset, "lines": lines}})
            self._post(self._fan_out_log, job_id, message)

    def kill(self, job_id: int) -> None:
        """One process: a job that does not run here runs nowhere (cluster/events.py passes it on)."""

    def refresh(self) -> None:
        """Send every client a fresh snapshot (POST /jobs/push-jobs-to-websocket)."""
        self._post(self._fan_out_job, None, None, None)

    def drop_user(self, user_id: int, code: int, reason: str, sessions_only: bool = False) -> None:
        """issue 12: close the user's sockets (not those opened with an API key when `sessions_only`);
        called after the commit of a change to its rights (access.py)."""
        self._post(self._close_user, user_id, code, reason, sessions_only)

    def _post(self, callback: Any, *args: Any) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed during shutdown: nobody listens any more
            loop.call_soon_threadsafe(callback, *args)

    # -- event loop -------------------------------------------------------------------------------

    def _fan_out_job(self, created_by: int | None, message: str | None, job_id: int | None) -> None:
        self._generation += 1
        for client in self._clients:
            if message is None or client.sees(created_by):
                if message is not None:
                    client.offer(message, job_id)
                client.mark_changed()

    def _fan_out_log(self, job_id: int, message: str) -> None:
        for client in self._log_watchers.get(job_id, ()):
            client.offer(message)

    def _close_user(self, user_id: int, code: int, reason: str, sessions_only: bool) -> None:
        for client in list(self._clients):
            if client.user.id == user_id and not (sessions_only and client.via == "api_key"):
                self._close(client, code, reason)

    def _close(self, client: _Client, code: int, reason: str) -> None:
        if not client.closing:
            client.closing = True
            client.outbox.clear()  # nothing more reaches a user who lost the right to it
            self._tasks.add(task := asyncio.create_task(self._send_close(client, code, reason), name="ws-close"))
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _send_close(client: _Client, code: int, reason: str) -> None:
        with contextlib.suppress(RuntimeError, OSError):  # already closed by the client
            await client.websocket.close(code, reason)

    async def _recheck(self, client: _Client, credential: Credential) -> None:
        """issue 12: close the socket when its credential expires or stops being valid, or its role changes."""
        while not client.closing:
            expires = await to_thread.run_sync(credential.expiry)
            wait = RECHECK_SECONDS if expires is None else min(RECHECK_SECONDS, max(expires - time.time(), 0))
            await asyncio.sleep(wait)
            user = await to_thread.run_sync(credential.user)
            if user is None:
                self._close(client, access.UNAUTHORIZED, "credentials expired or revoked")
            elif user.is_superuser != client.user.is_superuser:
                self._close(client, access.FORBIDDEN, "role changed")

    async def serve(self, websocket: WebSocket, user: User, credential: Credential) -> None:
        """Serve one authenticated client until it disconnects, or until its rights end."""
        await websocket.accept()
        client = _Client(websocket, user, credential.via)
        self._clients.add(client)
        sender = asyncio.create_task(self._send_loop(client), name="ws-sender")
        rechecker = asyncio.create_task(self._recheck(client, credential), name="ws-recheck")
        try:
            while True:
                text = await websocket.receive_text()
                await self._handle(client, text)
        except WebSocketDisconnect:
            pass
        finally:
            sender.cancel()
            rechecker.cancel()
            self._clients.discard(client)
            for job_id in list(client.logs):  # _unwatch removes from it
                self._unwatch(client, job_id)

    async def _handle(self, client: _Client, text: str) -> None:
        try:
            message = json.loads(text)
            if not isinstance(message, dict):
                raise ValueError
        except ValueError:
            client.offer(json.dumps({"error": "expected a JSON object"}))
            return
        if "subscribe_log" in message or "unsubscribe_log" in message:
            key = "subscribe_log" if "subscribe_log" in message else "unsubscribe_log"
            job_id = message[key]
            if not _is_job_id(job_id):
                client.offer(json.dumps({"error": f"{key} takes a job id (a whole number up to {ID_MAX})"}))
                return
            if key == "unsubscribe_log":
                self._unwatch(client, job_id)
                return
            try:
                await to_thread.run_sync(self._check_visible, job_id, client.user)
            except AppError:
                client.offer(json.dumps({"error": f"job {job_id} not found"}))
                return
            client.logs.add(job_id)
            self._log_watchers.setdefault(job_id, set()).add(client)
            client.offer(json.dumps({"subscribed_log": job_id}))
        else:
            client.offer(json.dumps({"error": "expected subscribe_log or unsubscribe_log"}))

    def _unwatch(self, client: _Client, job_id: Any) -> None:
        watchers = self._log_watchers.get(job_id)
        if watchers is not None:
            watchers.discard(client)
            if not watchers:
                del self._log_watchers[job_id]
        client.logs.discard(job_id)

    def _check_visible(self, job_id: int, user: User) -> None:
        with db.session(self._engine, readonly=True) as session:
            service.get_job(session=session, job_id=job_id, actor=user)

    async def _send_loop(self, client: _Client) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                while client.outbox and not client.closing:
                    await client.websocket.send_text(client.take())
                if client.closing:  # its rights ended (drop_user, _recheck): send nothing more
                    break
                if client.needs_snapshot:
                    wait = client.last_snapshot + SNAPSHOT_INTERVAL - loop.time()
                    if wait <= 0:
                        client.needs_snapshot = False
                        client.last_snapshot = loop.time()
                        await client.websocket.send_text(await self._snapshot(client))
                        continue
                else:
                    wait = None
                # Nothing was awaited since the outbox ran empty, so no message can slip past this clear.
                client.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.wake.wait(), wait)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the receive loop sees the disconnect and cleans up
        except Exception:
            logger.exception("WebSocket sender failed")

    async def _snapshot(self, client: _Client) -> str:
        """Built once per change for all clients that see the same jobs (same owner filter)."""
        generation = self._generation
        cached = self._snapshots.get(client.owner)
        if cached is not None and cached[0] == generation:
            return cached[1]
        text = await to_thread.run_sync(self._build_snapshot, client.user)
        self._snapshots[client.owner] = (generation, text)
        return text

    def _build_snapshot(self, user: User) -> str:
        with db.session(self._engine, readonly=True) as session:
            items, total = service.list_jobs(session=session, actor=user, limit=PAGE_SIZE)
            return json.dumps({"jobs": [JobSummary.of(job) for job in items], "total": total})


def _is_job_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= ID_MAX
