"""`/login` and `/logout`: the browser session (the cookie is set and cleared by web/session.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from vcore_app.errors import AppError
from vcore_app.web.deps import runtime
from vcore_app.web.login import check_login
from vcore_app.web.session import end_session, set_session_cookie
from vcore_app.web.templating import render
from vcore_app.web.validation import read_form


def safe_next(target: str | None) -> str:
    """Only a path of this site: `//evil.example` or `https://...` would be an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def login_page(request: Request) -> Response:
    return render(
        request,
        "login/login.html",
        {
            "next": safe_next(request.query_params.get("next")),
            "username": "",
            "error": None,
            "no_user_yet": runtime(request).setup_token is not None,
        },
    )


async def login_submit(request: Request) -> Response:
    form = await read_form(request)
    username, target = form.get("username", "").strip(), safe_next(form.get("next"))
    try:
        user = await check_login(request, username, form.get("password", ""))
    except AppError as exc:
        return render(
            request, "login/login.html", {"next": target, "username": username, "error": exc.message}, status=exc.status
        )
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, user)
    return response


async def logout_page(request: Request) -> Response:
    return render(request, "login/logout.html")


async def logout_submit(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    await end_session(request, response)
    return response
