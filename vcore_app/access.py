"""When a user's rights change, open connections hear of it: deactivation, deletion, demotion,
"log out everywhere" and a password change close that user's WebSockets (live.py) at once.

HTTP requests check the credential each time, but a WebSocket is checked when it connects; without
this, a demoted and deactivated superuser kept receiving every user's jobs. The domain (users.py)
says what changed, after its commit; whoever holds connections for that database listens. Keyed by
engine, so two apps in one process (tests) never close each other's users.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session

from vcore_app import db

# Close codes, like HTTP's: the credential is no longer valid / the rights the connection had changed.
UNAUTHORIZED = 4401
FORBIDDEN = 4403

# (user id, close code, reason, sessions_only): sessions_only spares connections made with an API key
# (API keys survive "log out everywhere" and a password change, like personal access tokens).
Listener = Callable[[int, int, str, bool], None]
_listeners: weakref.WeakKeyDictionary[Engine, list[Listener]] = weakref.WeakKeyDictionary()


def listen(engine: Engine, listener: Listener) -> None:
    _listeners.setdefault(engine, []).append(listener)


def changed(session: Session, *, user_id: int | None, code: int, reason: str, sessions_only: bool = False) -> None:
    """Once `session` commits, tell the listeners that `user_id`'s connections must close."""
    engine = session.get_bind()
    if user_id is None:  # never saved: nobody can be connected as it
        return

    def announce() -> None:
        listeners = _listeners.get(engine, []) if isinstance(engine, Engine) else []
        for listener in listeners:
            listener(user_id, code, reason, sessions_only)

    db.on_commit(session, announce)
