"""The user a credential stood for, remembered for one second.

Resolving a credential costs a JWT decode and a database session (the user, and for a browser session
whether it was logged out) on every request: under a burst of API calls that was half of the app's
busy time. A hit skips all of it. Staleness is bounded: an entry lives at most TTL_SECONDS and never
past the credential's own expiry; and whatever changes what a credential stands for (access.py: a
logout, a revoked API key, deactivation, deletion, demotion, log out everywhere, a password change)
makes the cache forget that user's entries as soon as it commits. Only a change made by another
process (the `vcore-app users` command) waits for the TTL. Each hit hands out its own detached copy,
so no two requests share a User object.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any

from sqlalchemy.orm import make_transient_to_detached

from vcore_app.models import User

TTL_SECONDS = 1.0
MAX_ENTRIES = 1024


class CredentialCache:
    def __init__(self, *, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        # key -> (valid until, a Unix time; the user's fields)
        self._entries: OrderedDict[bytes, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(via: str, secret: str) -> bytes:
        return hashlib.sha256(f"{via}\0{secret}".encode()).digest()  # no secret kept in memory as such

    def get(self, via: str, secret: str) -> User | None:
        key = self._key(via, secret)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.time() >= entry[0]:
                del self._entries[key]
                return None
            fields = entry[1]
        user = User(**fields)
        make_transient_to_detached(user)  # like a user loaded by a session that has closed
        return user

    def put(self, via: str, secret: str, user: User, *, expires: float | None) -> None:
        """Remember `user` for this credential for TTL seconds, never past `expires` (a Unix time)."""
        until = time.time() + self.ttl if expires is None else min(time.time() + self.ttl, expires)
        with self._lock:
            self._entries[self._key(via, secret)] = (until, user.model_dump())
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def forget_user(self, user_id: int) -> None:
        """access.py tells: this user's rights or credentials changed; none of its entries may be used."""
        with self._lock:
            for key in [key for key, (_, fields) in self._entries.items() if fields.get("id") == user_id]:
                del self._entries[key]
