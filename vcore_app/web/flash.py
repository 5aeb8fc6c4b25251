"""Flash messages: one line shown on the next page after an action (POST, redirect, GET).

The messages travel in a short-lived cookie signed with a key derived from the access-token key, so
nothing but this app can put words on our pages (a sibling subdomain can set cookies for us). The
next full page `render()` shows them and clears the cookie: read once. Background fetches of a page
(the live list refreshing itself) send `X-Vc-Fragment` and leave the messages for the real page.

    return flash.redirect(request, "/jobs", "Job 12 deleted.")

A secret (a new API key) is no message for a cookie: `hold_secret` keeps it in memory for the next
page, which gets it once with `take_secret` (web/shown_once.py says why).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from vcore_app.web.csrf import is_https
from vcore_app.web.deps import actor_id, settings, shown_once

COOKIE = "vc_flash"
SECRET_COOKIE = "vc_once"  # the ticket of a secret held in memory, not the secret
FRAGMENT_HEADER = "x-vc-fragment"
MAX_AGE = 60  # seconds: the redirect follows at once; a stale message must not surface days later
Level = Literal["success", "info", "warning", "danger"]
_LEVELS = frozenset({"success", "info", "warning", "danger"})


def _key(request: Request) -> bytes:
    access = settings(request).JWT_ACCESS_SECRET_KEY.get_secret_value()
    return hmac.new(access.encode(), b"vcore-flash-cookie", hashlib.sha256).digest()


def _sign(request: Request, payload: bytes) -> str:
    return hmac.new(_key(request), payload, hashlib.sha256).hexdigest()


def _encode(request: Request, messages: list[tuple[str, str]]) -> str:
    # No "=" padding: a cookie value with "=" gets quoted, and a plain token is simpler to check.
    payload = base64.urlsafe_b64encode(json.dumps(messages).encode()).decode().rstrip("=")
    return f"{payload}.{_sign(request, payload.encode())}"


def _decode(request: Request, value: str) -> list[tuple[str, str]]:
    payload, _, signature = value.partition(".")
    if not hmac.compare_digest(signature, _sign(request, payload.encode())):
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return [(level, message) for level, message in items if level in _LEVELS and isinstance(message, str)]
    except (ValueError, TypeError):  # a cookie of an older format: drop it
        return []


def pending(request: Request) -> list[tuple[str, str]]:
    """The messages waiting for this browser (none for a background fragment fetch)."""
    value = request.cookies.get(COOKIE)
    if not value or request.headers.get(FRAGMENT_HEADER):
        return []
    return _decode(request, value)


def add(request: Request, response: Response, message: str, level: Level = "success") -> None:
    """Queue `message` for the next page this browser renders."""
    messages = [*pending(request), (level, message)]
    response.set_cookie(
        COOKIE,
        _encode(request, messages),
        max_age=MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def clear(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def redirect(request: Request, url: str, message: str, level: Level = "success") -> RedirectResponse:
    """303 to `url` (a path of this site) showing `message` there."""
    response = RedirectResponse(url, status_code=303)
    add(request, response, message, level)
    return response


def hold_secret(request: Request, response: Response, value: dict[str, Any]) -> None:
    """Keep `value` for the next page this browser shows to the acting user, once."""
    ticket = shown_once(request).put(actor_id(request), value)
    response.set_cookie(
        SECRET_COOKIE, ticket, max_age=MAX_AGE, path="/", httponly=True, samesite="lax", secure=is_https(request)
    )


def take_secret(request: Request) -> dict[str, Any] | None:
    """The value held for this browser and user, once; the page then calls `forget_secret`."""
    ticket = request.cookies.get(SECRET_COOKIE)
    return shown_once(request).take(ticket, actor_id(request)) if ticket else None


def forget_secret(request: Request, response: Response) -> None:
    if SECRET_COOKIE in request.cookies:
        response.delete_cookie(SECRET_COOKIE, path="/", httponly=True, samesite="lax")
