"""The outbox: notification rows added in the caller's transaction (the job's final state change, a
missed slot), so a crash between commit and send loses nothing. The sender thread that drains them
is in sender.py; `wake` reaches it after a commit.
"""

from __future__ import annotations

import weakref
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from vcore_app import db
from vcore_app.models import utcnow
from vcore_app.notify.models import NotifyChannel, NotifyDelivery


class Wakeable(Protocol):
    def wake(self) -> None: ...


# The sender of each engine, so a hook deep inside a job transaction can wake it after the commit.
SENDERS: weakref.WeakKeyDictionary[Engine, Wakeable] = weakref.WeakKeyDictionary()


def enqueue(
    *,
    session: Session,
    event: str,
    payload: dict[str, Any],
    channels: list[str] | None,
    group_key: str,
    dedupe_key: str | None = None,
) -> list[NotifyDelivery]:
    """Add one pending row per target channel to the caller's transaction; wake the sender after
    the commit. `channels` names them (unknown or disabled names are skipped); None means every
    enabled channel. With `dedupe_key`, a row already made for the same key and channel is not
    made again."""
    query = select(NotifyChannel).where(NotifyChannel.enabled)
    if channels is not None:
        query = query.where(col(NotifyChannel.name).in_(channels))
    rows = []
    for channel in session.exec(query.order_by(col(NotifyChannel.id))).all():
        assert channel.id is not None
        key = f"{dedupe_key}:c{channel.id}" if dedupe_key else None
        if key and session.exec(select(NotifyDelivery.id).where(NotifyDelivery.dedupe_key == key)).first():
            continue
        rows.append(
            NotifyDelivery(
                channel_id=channel.id,
                event=event,
                group_key=group_key,
                dedupe_key=key,
                payload=payload,
                next_attempt_at=utcnow(),
            )
        )
    if not rows:
        return []
    session.add_all(rows)
    session.flush()
    engine = session.get_bind().engine
    db.on_commit(session, lambda: wake(engine))
    return rows


def wake(engine: Engine) -> None:
    sender = SENDERS.get(engine)
    if sender is not None:
        sender.wake()
