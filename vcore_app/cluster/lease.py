"""A lease row: a duty (the scheduler) only one node holds at a time, taken over when its holder stops
renewing it. One guarded UPDATE takes or renews it, so two nodes asking at once cannot both win, on
SQLite and PostgreSQL alike. Migration 0010 makes the row."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, or_, update
from sqlmodel import col

from vcore_app import db
from vcore_app.models import Lease, utcnow
from vcore_app.schedulers.thread import Tick

SCHEDULER = "scheduler"


def hold(engine: Engine, *, name: str, holder: str, seconds: float) -> bool:
    """Take the lease `name` for `seconds` if it is free or expired, or renew it if `holder` has it."""
    now = utcnow()
    with db.session(engine) as session:
        result = session.execute(
            update(Lease)
            .where(col(Lease.name) == name, or_(col(Lease.holder) == holder, col(Lease.expires_at) < now))
            .values(holder=holder, expires_at=now + timedelta(seconds=seconds)),
            execution_options={"synchronize_session": False},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def release(engine: Engine, *, name: str, holder: str) -> None:
    """Give the lease up at once (a clean stop), so another node need not wait for it to expire."""
    with db.session(engine) as session:
        session.execute(
            update(Lease)
            .where(col(Lease.name) == name, col(Lease.holder) == holder)
            .values(holder="", expires_at=utcnow()),
            execution_options={"synchronize_session": False},
        )


def leading(tick: Tick, *, engine: Engine, holder: str, seconds: float) -> Tick:
    """`tick` run only while this node holds the scheduler lease; it is renewed at least every third
    of `seconds`, so a node that dies loses it within `seconds` (SCHEDULER_FAILOVER_SECONDS)."""
    renew = seconds / 3

    def leased() -> float | None:
        if not hold(engine, name=SCHEDULER, holder=holder, seconds=seconds):
            return renew  # another node fires them; look again in case it died
        delay = tick()
        return renew if delay is None else min(delay, renew)

    return leased
