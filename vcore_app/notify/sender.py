"""The sender thread that drains the outbox (outbox.py).

Delivery: a row is `pending` until due, `sending` while a channel has it, then `sent`, or `pending`
again with a doubling delay (NOTIFY_RETRY_BASE_SECONDS, 2x per attempt, at most an hour) after a
temporary error, or `failed` after a permanent one or NOTIFY_MAX_ATTEMPTS. Sends run on a small
pool of threads of their own: a slow or dead channel never holds a job worker or the web server, and
a failing channel never changes a job. Rows left `sending` by a process that died are sent again
after the restart: delivery is at least once; a receiver can drop repeats by the delivery id
(webhooks get it in X-Vcore-Delivery).

Storm control, per channel and group (the event and its scheduler, or the event for jobs without
one): of the notifications created within NOTIFY_DIGEST_WINDOW_SECONDS, the first NOTIFY_BURST go
out one by one; the rest are held, and once the oldest held one has waited a whole window they all go
out as one digest (count, the first 20 titles with links). So a group sends at most NOTIFY_BURST
messages plus one digest per window, whatever the number of failures. Tests and the start message
are not grouped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from loguru import logger
from sqlalchemy import Engine, func
from sqlmodel import col, select

from vcore_app import db
from vcore_app.models import Job, utcnow
from vcore_app.notify.channels import DeliveryError
from vcore_app.notify.events import app_started, long_running, overdue_jobs
from vcore_app.notify.models import DeliveryStatus, NotifyChannel, NotifyDelivery
from vcore_app.notify.outbox import SENDERS
from vcore_app.notify.service import channel_for, sync_settings_channels
from vcore_app.notify.templates import render_message
from vcore_app.settings import Settings

Clock = Callable[[], datetime]
S = DeliveryStatus
DIGEST_ITEMS = 20
_MAX_DELAY_SECONDS = 3600.0
_MAX_IDLE_SECONDS = 2.0  # long-running jobs are checked at least this often
_BATCH = 100
_SEND_THREADS = 4
_RETRY_AFTER_ERROR_SECONDS = 5.0
_SUMMARIES_KEPT = 256  # LLM summaries of recent failures, so each channel's copy reuses one answer


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    event: str
    payload: dict[str, Any]
    channel: NotifyChannel


class Sender:
    """The thread that drains the outbox; sends happen on its pool so one slow channel does not
    hold the others."""

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        clock: Clock = utcnow,
        build: Callable[[NotifyChannel, Settings], Any] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.build = build or channel_for
        self.boot_id = ""
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="notify-sender", daemon=True)
        self._pool = ThreadPoolExecutor(max_workers=_SEND_THREADS, thread_name_prefix="notify-send")
        self._started = False
        self._summaries: dict[int, Future[str | None]] = {}
        self._summaries_lock = threading.Lock()

    def start(self, boot_id: str, alive: Collection[str] = ()) -> None:
        """Mirror the settings' channels, take over the rows a dead process left `sending` (one whose
        boot is neither this one nor in `alive`, the other nodes still beating: issue 20), add the
        start message (NOTIFY_ON_START), then start draining."""
        self.boot_id = boot_id
        with db.session(self.engine) as session:
            sync_settings_channels(session=session, settings=self.settings)
            app_started(session=session, settings=self.settings, boot_id=boot_id)
            # Left `sending` by a dead process, or waiting for a retry: try now (a restart is often
            # how a channel's settings get fixed).
            waiting = session.exec(
                select(NotifyDelivery).where(
                    col(NotifyDelivery.status).in_((S.SENDING, S.PENDING)),
                    col(NotifyDelivery.boot_id).not_in({boot_id, *alive}),
                )
            ).all()
            for row in waiting:
                row.status = S.PENDING
                row.next_attempt_at = self.clock()
                session.add(row)
        if waiting:
            logger.info("{} notifications left by the previous run are sent now", len(waiting))
        SENDERS[self.engine] = self
        self._thread.start()
        self._started = True

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop claiming; sends under way get `timeout` seconds, what is left is sent after a restart."""
        if not self._started:
            return
        self._started = False
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if SENDERS.get(self.engine) is self:
            del SENDERS[self.engine]

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                delay = self.run_once()
            except Exception:
                logger.exception("notification sender failed; trying again in {} s", _RETRY_AFTER_ERROR_SECONDS)
                delay = _RETRY_AFTER_ERROR_SECONDS
            self._wake.wait(delay)
            self._wake.clear()

    def run_once(self) -> float:
        """One pass: note long-running jobs, fold held rows into digests, hand due rows to the
        pool. Returns the seconds until something is due. The write lock (which job workers need
        too) is taken only for what a read-only look found to do."""
        now = self.clock()
        window = timedelta(seconds=self.settings.NOTIFY_DIGEST_WINDOW_SECONDS)
        with db.session(self.engine, readonly=True) as session:
            overdue = bool(overdue_jobs(session=session, settings=self.settings, now=now))
            due = session.exec(
                select(NotifyDelivery.id)
                .where(NotifyDelivery.status == S.PENDING, NotifyDelivery.next_attempt_at <= now)
                .limit(1)
            ).first()
            held = session.exec(
                select(func.min(NotifyDelivery.created_at)).where(NotifyDelivery.status == S.HELD)
            ).one()
        if overdue:
            with db.session(self.engine) as session:
                long_running(session=session, settings=self.settings, now=now)
        if held is not None and _aware(held) + window <= now:
            self._fold_digests(now)
        if due is not None or overdue:
            for item in self._claim(now):
                self._pool.submit(self._deliver, item)
        return self._next_due(self.clock())

    def _claim(self, now: datetime) -> list[_Claimed]:
        window = timedelta(seconds=self.settings.NOTIFY_DIGEST_WINDOW_SECONDS)
        claimed: list[_Claimed] = []
        with db.session(self.engine) as session:
            due = session.exec(
                select(NotifyDelivery)
                .where(NotifyDelivery.status == S.PENDING, NotifyDelivery.next_attempt_at <= now)
                .order_by(col(NotifyDelivery.id))
                .limit(_BATCH)
                # PostgreSQL: rows another web node is claiming are skipped, not sent twice (issue 20)
                .with_for_update(skip_locked=True)
            ).all()
            channels = {row.id: row for row in session.exec(select(NotifyChannel)).all()}
            sent_in_window: dict[tuple[int, str], int] = {}
            for row in due:
                channel = channels.get(row.channel_id)
                if channel is None or not channel.enabled:
                    row.status = S.FAILED
                    row.last_error = "channel disabled"
                    session.add(row)
                    continue
                if row.group_key and row.attempts == 0:
                    group = (row.channel_id, row.group_key)
                    if group not in sent_in_window:
                        sent_in_window[group] = session.exec(
                            select(func.count())
                            .select_from(NotifyDelivery)
                            .where(
                                NotifyDelivery.channel_id == row.channel_id,
                                NotifyDelivery.group_key == row.group_key,
                                NotifyDelivery.attempts > 0,
                                NotifyDelivery.created_at >= now - window,
                            )
                        ).one()
                    if sent_in_window[group] >= self.settings.NOTIFY_BURST:
                        row.status = S.HELD
                        session.add(row)
                        continue
                    sent_in_window[group] += 1
                assert row.id is not None
                row.status = S.SENDING
                row.attempts += 1
                row.boot_id = self.boot_id
                session.add(row)
                claimed.append(_Claimed(row.id, row.event, row.payload, channel.model_copy()))
        return claimed

    def _fold_digests(self, now: datetime) -> None:
        """Held rows whose oldest has waited a window become one digest per channel and group."""
        window = timedelta(seconds=self.settings.NOTIFY_DIGEST_WINDOW_SECONDS)
        with db.session(self.engine) as session:
            groups = session.exec(
                select(NotifyDelivery.channel_id, NotifyDelivery.group_key, func.min(NotifyDelivery.created_at))
                .where(NotifyDelivery.status == S.HELD)
                .group_by(col(NotifyDelivery.channel_id), col(NotifyDelivery.group_key))
            ).all()
            for channel_id, group_key, oldest in groups:
                if oldest is not None and _aware(oldest) + window > now:
                    continue
                held = session.exec(
                    select(NotifyDelivery)
                    .where(
                        NotifyDelivery.status == S.HELD,
                        NotifyDelivery.channel_id == channel_id,
                        NotifyDelivery.group_key == group_key,
                    )
                    .order_by(col(NotifyDelivery.id))
                ).all()
                digest = NotifyDelivery(
                    channel_id=channel_id,
                    event="digest",
                    group_key="",
                    next_attempt_at=now,
                    payload=_digest_payload(group_key, list(held)),
                )
                session.add(digest)
                session.flush()
                for row in held:
                    row.status = S.DIGESTED
                    row.digest_id = digest.id
                    session.add(row)

    def _next_due(self, now: datetime) -> float:
        window = timedelta(seconds=self.settings.NOTIFY_DIGEST_WINDOW_SECONDS)
        with db.session(self.engine, readonly=True) as session:
            pending = session.exec(
                select(func.min(NotifyDelivery.next_attempt_at)).where(NotifyDelivery.status == S.PENDING)
            ).one()
            held = session.exec(
                select(func.min(NotifyDelivery.created_at)).where(NotifyDelivery.status == S.HELD)
            ).one()
        times = [_aware(pending)] if pending else []
        times += [_aware(held) + window] if held else []
        if not times:
            return _MAX_IDLE_SECONDS
        return min(max((min(times) - now).total_seconds(), 0.0), _MAX_IDLE_SECONDS)

    def _deliver(self, item: _Claimed) -> None:
        error: DeliveryError | None = None
        try:
            message = render_message(
                delivery_id=item.delivery_id, event=item.event, payload=self._with_summary(item), settings=self.settings
            )
            self.build(item.channel, self.settings).send(message)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:
            logger.exception("notification {} could not be sent", item.delivery_id)
            error = DeliveryError(f"internal error: {type(exc).__name__}")
        try:
            self._record(item, error)
        except Exception:
            logger.exception("could not record the delivery of notification {}", item.delivery_id)
        self.wake()

    def _with_summary(self, item: _Claimed) -> dict[str, Any]:
        """NOTIFY_LLM_SUMMARY: a failure's message carries a few sentences from the default LLM
        provider. Asked here, on a send thread, so the job's own transaction never waits for it;
        asked once per job whatever the number of channels; a provider that fails leaves it out."""
        job_id = (item.payload.get("job") or {}).get("id")
        if item.event != "failed" or not self.settings.NOTIFY_LLM_SUMMARY or not isinstance(job_id, int):
            return item.payload
        with self._summaries_lock:  # the first channel's send asks; the others wait for its answer
            pending = self._summaries.get(job_id)
            asks = pending is None
            if pending is None:
                pending = self._summaries[job_id] = Future()
                if len(self._summaries) > _SUMMARIES_KEPT:
                    self._summaries.pop(next(iter(self._summaries)))
        if asks:
            try:
                answer = self._ask_summary(job_id, item.payload)
            except Exception:  # never leave the other channels waiting, never hold the message back
                logger.exception("no LLM summary for the failure of job {}", job_id)
                answer = None
            pending.set_result(answer)
        summary = pending.result()
        return {**item.payload, "summary": summary} if summary else item.payload

    def _ask_summary(self, job_id: int, payload: dict[str, Any]) -> str | None:
        """Outside the lock: a slow provider holds up this job's messages only, not other jobs'."""
        from vcore_app import llm

        with db.session(self.engine, readonly=True) as session:
            job = session.get(Job, job_id)
        tail = "\n".join(payload.get("log_tail") or [])
        return llm.failure_summary(job, tail, settings=self.settings, engine=self.engine) if job else None

    def _record(self, item: _Claimed, error: DeliveryError | None) -> None:
        now = self.clock()
        with db.session(self.engine) as session:
            row = session.get(NotifyDelivery, item.delivery_id)
            channel = session.get(NotifyChannel, item.channel.id)
            if row is None or row.status != S.SENDING:
                return
            row.history = [
                *row.history,
                {
                    "at": now.isoformat(),
                    "attempt": row.attempts,
                    "ok": error is None,
                    "error": error.reason if error else None,
                },
            ]
            if error is None:
                row.status, row.sent_at, row.last_error = S.SENT, now, None
            else:
                row.last_error = error.reason
                if error.permanent or row.attempts >= self.settings.NOTIFY_MAX_ATTEMPTS:
                    row.status = S.FAILED
                else:
                    row.status = S.PENDING
                    delay = min(self.settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** (row.attempts - 1), _MAX_DELAY_SECONDS)
                    row.next_attempt_at = now + timedelta(seconds=delay)
            session.add(row)
            if channel is not None:
                if error is None:
                    channel.last_success_at, channel.consecutive_failures = now, 0
                else:
                    channel.last_error_at, channel.last_error = now, error.reason[:1000]
                    channel.consecutive_failures += 1
                session.add(channel)
        if error is None:
            logger.info("notification {} ({}) sent to channel {}", item.delivery_id, item.event, item.channel.name)
        else:
            logger.warning(
                "notification {} ({}) to channel {} failed (attempt {}): {}",
                item.delivery_id,
                item.event,
                item.channel.name,
                row.attempts,
                error.reason,
            )


def _digest_payload(group_key: str, held: list[NotifyDelivery]) -> dict[str, Any]:
    event = group_key.split(":", 1)[0]
    scheduler = next((row.payload.get("scheduler") for row in held if row.payload.get("scheduler")), None)
    where = f" of scheduler '{scheduler['name']}'" if scheduler else ""
    items = [
        {"title": row.payload.get("title", row.event), "url": row.payload.get("url")} for row in held[:DIGEST_ITEMS]
    ]
    return {
        "title": f"{len(held)} more '{event}' notifications{where}",
        "count": len(held),
        "items": items,
        "scheduler": scheduler,
        "detail": "Grouped by storm control: too many in a short time.",
    }


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes from aggregate queries; ours are all UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
