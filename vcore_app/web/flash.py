"""Flash messages: a one-time notice ("Password changed") carried across a redirect in a cookie.

The cookie lives a minute and `render()` clears it once it has shown it. It is HttpOnly and only we
set it; still, what it holds is checked on the way back (known levels, capped text) and the template
escapes the text like any other, so a planted cookie can at most show a plain sentence.
"""

from __future__ import annotations

import base64
import json
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

FLASH_COOKIE = "vcore_flash"
MAX_MESSAGE = 200
Level = Literal["success", "info", "warning", "danger"]
_LEVELS = {"success", "info", "warning", "danger"}
_LIFETIME_SECONDS = 60


def flash(response: Response, level: Level, message: str) -> None:
    """Show `message` on the next page this browser renders (one message per response)."""
    payload = json.dumps([[level, message[:MAX_MESSAGE]]]).encode()
    response.set_cookie(FLASH_COOKIE, base64.urlsafe_b64encode(payload).decode(), max_age=_LIFETIME_SECONDS,
                        path="/", httponly=True, samesite="lax")


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    """The (level, message) pairs waiting for this request; render() clears the cookie after showing them."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    return [(str(item[0]), str(item[1])[:MAX_MESSAGE]) for item in items
            if isinstance(item, list) and len(item) == 2 and item[0] in _LEVELS]


def clear_flashes(response: Response) -> None:
    response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax")
