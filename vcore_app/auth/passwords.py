"""Password hashing with passlib's CryptContext (libpass fork) and argon2.

argon2 has no 72-byte limit (bcrypt refuses longer passwords even in verify), so nothing is ever
truncated. `deprecated="auto"`: when the scheme list changes, a login rehashes with the new first one.
"""

from __future__ import annotations

from functools import cache

from passlib.context import CryptContext

MIN_LENGTH = 8
MAX_LENGTH = 256

_context = CryptContext(schemes=["argon2"], deprecated="auto")


@cache
def dummy_hash() -> str:
    """Verifying against this costs what a real verify costs: a login for an unknown user takes as
    long as a wrong password, so timing does not tell which usernames exist. Made on first use, not
    at import (hashing takes ~0.15 s); the runtime warms it in the background at start."""
    return _context.hash("not-a-real-password")


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    return None


def hash_password(password: str) -> str:
    return _context.hash(password)


def verify_password(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """(matches, new hash when the stored one uses a deprecated scheme). None hash: dummy verify."""
    if hashed is None:
        _context.verify(password, dummy_hash())
        return False, None
    try:
        return _context.verify_and_update(password, hashed)
    except ValueError:  # an unparsable stored hash is a failed login, not a 500
        return False, None
