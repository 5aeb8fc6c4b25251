"""Which paths answer without credentials; every other one is refused by the gate in
auth/backend.py. tests/test_auth_sweep.py enumerates the routes and checks each non-public one; a new
route must be classified there (any user or superuser only) or that test fails."""

from __future__ import annotations

from collections.abc import Callable

from vcore_app.settings import Settings

API = "/api/v1"

PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/readyz",  # says only whether it can take work, and why not
        "/metrics",  # its own rule: loopback, or the METRICS_TOKEN bearer (web/api/ops.py)
        "/setup",  # opens only with the one-time token (first_run.py)
        "/login",
        "/logout",  # logging out needs no session (and clears a stale one)
        "/forgot-password",  # one answer for every address (auth/recovery.py)
        "/reset-password",  # works only with a valid, unused reset link
        f"{API}/login/access-token",
        f"{API}/login/refresh-token",
        f"{API}/register",  # refused with 403 unless USERS_OPEN_REGISTRATION
        f"{API}/reset-password",
    }
)
PUBLIC_PREFIXES: tuple[str, ...] = (
    "/static/",
    f"{API}/password-recovery/",
)
# The API's documentation: behind the login unless API_DOCS_PUBLIC (the API itself never is).
DOCS_PATHS = frozenset({"/docs", "/redoc", f"{API}/openapi.json"})


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def public_paths(settings: Settings) -> Callable[[str], bool]:
    """The gate's question for this app: `is_public`, plus the docs when API_DOCS_PUBLIC is set."""
    if not settings.API_DOCS_PUBLIC:
        return is_public
    return lambda path: is_public(path) or path in DOCS_PATHS
