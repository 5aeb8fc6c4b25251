"""Forgotten passwords: `/password-recovery/{email}` mails a reset link, `/reset-password/` uses it.

The recovery answer is the same whether the address is known or not, and takes the same time; the
link works once (auth/recovery.py, shared with the pages).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from vcore_app.auth import recovery
from vcore_app.auth.recovery import RECOVERY_ANSWER
from vcore_app.errors import AppError
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import in_db, runtime, settings
from vcore_app.web.schemas import Message, ResetPassword
from vcore_app.web.validation import json_body


@operation("Mail a password-reset link (same answer for any address)", tags=["login"], responses={200: Message})
async def password_recovery(request: Request) -> JSONResponse:
    task = await recovery.recovery_task(
        settings=settings(request), engine=runtime(request).engine, email=request.path_params["email"]
    )
    return JSONResponse({"message": RECOVERY_ANSWER}, background=task)


@operation(
    "Set a new password with a reset link's token",
    tags=["login"],
    body=ResetPassword,
    responses={200: Message},
    errors=[400],
)
async def reset_password(request: Request) -> JSONResponse:
    body, config = await json_body(request, ResetPassword), settings(request)
    if not await in_db(
        request,
        lambda session: recovery.reset_password(
            session=session, settings=config, token=body.token, new_password=body.new_password
        ),
    ):
        raise AppError(recovery.INVALID_LINK, 400)
    return JSONResponse({"message": "Password updated; log in with the new one"})
