"""When a user's rights change, open connections hear of it: deactivation, deletion, demotion,
"log out everywhere" and a password change close that user's WebSockets (live.py) at once.

HTTP requests check the credential each time, but a WebSocket is checked when it connects; without
this, a demoted and deactivated superuser kept receiving every user's jobs. The domain (users.py)
says what changed, after its commit; whoever holds connections for that database listens. Keyed by
engine, so two apps in one process (tests) never close each other's users.

Credentials too: a logout, a revoked API key, any change to a user's row (a renamed user must not
be served from the cache) and the changes above make the credential cache (auth/cache.py) forget
the user's entries, once committed (`credentials_changed`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from sqlalchemy import Engine, event
from sqlalchemy.orm import UOWTransaction
from sqlmodel import Session

from vcore_app import db
from vcore_app.models import User

# Close codes, like HTTP's: the credential is no longer valid / the rights the connection had changed.
UNAUTHORIZED = 4401
FORBIDDEN = 4403

# (user id, close code, reason, sessions_only): sessions_only spares connections made with an API key
# (API keys survive "log out everywhere" and a password change, like personal access tokens).
Listener = Callable[[int, int, str, bool], None]
_listeners: weakref.WeakKeyDictionary[Engine, list[Listener]] = weakref.WeakKeyDictionary()


_forgetters: weakref.WeakKeyDictionary[Engine, list[Callable[[int], None]]] = weakref.WeakKeyDictionary()


def listen(engine: Engine, listener: Listener) -> None:
    _listeners.setdefault(engine, []).append(listener)


def on_credentials_changed(engine: Engine, forget: Callable[[int], None]) -> None:
    _forgetters.setdefault(engine, []).append(forget)


def credentials_changed(session: Session, *, user_id: int | None) -> None:
    """Once `session` commits, caches forget what `user_id`'s credentials resolved to."""
    engine = session.get_bind()
    if user_id is None or not isinstance(engine, Engine):
        return

    def announce() -> None:
        for forget in _forgetters.get(engine, []):
            forget(user_id)

    db.on_commit(session, announce)


def changed(session: Session, *, user_id: int | None, code: int, reason: str, sessions_only: bool = False) -> None:
    """Once `session` commits, tell the listeners that `user_id`'s connections must close (and the
    caches that its credentials may no longer stand for it)."""
    engine = session.get_bind()
    if user_id is None:  # never saved: nobody can be connected as it
        return

    def announce() -> None:
        listeners = _listeners.get(engine, []) if isinstance(engine, Engine) else []
        for listener in listeners:
            listener(user_id, code, reason, sessions_only)

    db.on_commit(session, announce)
    credentials_changed(session, user_id=user_id)


@event.listens_for(Session, "after_flush")
def _user_rows_changed(session: Session, _flush: UOWTransaction) -> None:
    """Every flush that changes or deletes a user row, whichever function made it."""
    for row in (*session.dirty, *session.deleted):
        if isinstance(row, User):
            credentials_changed(session, user_id=row.id)
