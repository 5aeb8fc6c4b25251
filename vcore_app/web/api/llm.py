"""JSON handlers of the LLM helpers: a completion (whole or streamed as text), "explain this failure"
of a job, and token usage per user (superusers). The pages (web/pages/llm.py, web/pages/tools.py)
share `explain_failure` and `stream_text` with them.

The client modules are imported inside the handlers: the app starts without them (vcore_app/llm).
With no provider configured every call ends in a 400 naming the missing setting, before anything is
sent (tests/test_api_docs.py fuzzes these routes on such an app).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict
from typing import TYPE_CHECKING

from sqlmodel import Session
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from vcore_app.errors import AppError
from vcore_app.llm import explain
from vcore_app.llm.access import check_allowed
from vcore_app.llm.usage import recorder, since_days, usage_per_user
from vcore_app.models import JobExplanation, User
from vcore_app.tools import ToolFailed
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import actor, in_db, runtime, settings, superuser
from vcore_app.web.schemas import Completion, CompletionRequest, Explanation, UsageQuery, UsageReport
from vcore_app.web.validation import json_body, query_params

if TYPE_CHECKING:
    from vcore_app.llm.client import LLMError

# What a call to a provider may end in besides success: no key or base URL set (400), not allowed
# (403), the provider's rate limit (429, with its Retry-After), its refusal or failure (502), no
# answer in LLM_TIMEOUT_SECONDS (504).
LLM_ERRORS = (400, 403, 429, 502, 504)


def app_error(exc: LLMError) -> AppError:
    """An LLMError as the app's error: its sentence and status; a 429 keeps the provider's advice."""
    headers = {"Retry-After": str(round(exc.retry_after))} if exc.status == 429 and exc.retry_after else None
    return AppError(exc.message, exc.status, headers=headers)


async def stream_text(chunks: Iterable[str]) -> Response:
    """Text as it arrives (text/plain). The first chunk is awaited before answering, so a failure
    before any text (missing key, rejected key, 403) is a proper error status; a failure later can
    only end the text with an `[error] ...` line."""
    from vcore_app.llm.client import LLMError

    iterator = iter(chunks)
    try:
        first = await run_in_threadpool(next, iterator, "")
    except LLMError as exc:
        raise app_error(exc) from None
    except ToolFailed as exc:
        raise AppError(str(exc), 422) from None

    async def body() -> AsyncIterator[str]:
        yield first
        try:
            async for chunk in iterate_in_threadpool(iterator):
                yield chunk
        except LLMError as exc:
            yield f"\n\n[error] {exc.message}"
        except ToolFailed as exc:
            yield f"\n\n[error] {exc}"

    return StreamingResponse(
        body(),
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@operation(
    "Ask an LLM (whole answer, or the text as it is written)",
    tags=["llm"],
    body=CompletionRequest,
    responses={200: (Completion, "text")},
    errors=LLM_ERRORS,
    description="Whoever may run scripts may ask. The call's tokens count for the caller (`GET /api/v1/llm/usage`).",
)
async def complete(request: Request) -> Response:
    """`POST /api/v1/llm/complete`: `{"text", "usage"}`, or with `"stream": true` the text as it comes."""
    from vcore_app.llm.client import LLM, LLMError

    user = actor(request)
    body = await json_body(request, CompletionRequest)
    check_allowed(actor=user)
    client = LLM(settings(request), on_result=recorder(runtime(request).engine, purpose="api", user_id=user.id))
    options = body.model_dump(exclude={"prompt", "stream"})
    if body.stream:
        try:
            stream = client.stream(body.prompt, **options)  # a missing key is known before anything is sent
        except LLMError as exc:
            raise app_error(exc) from None
        return await stream_text(stream)
    try:
        result = await run_in_threadpool(lambda: client.complete(body.prompt, **options))
    except LLMError as exc:
        raise app_error(exc) from None
    return JSONResponse({"text": result.text, "usage": result.usage})


async def explain_failure(request: Request, user: User) -> JobExplanation:
    """Check, ask (outside any transaction: an LLM answer takes seconds), keep the answer."""
    from vcore_app.llm.client import LLMError

    job_id: int = request.path_params["job_id"]
    job = await in_db(
        request, lambda session: explain.failed_job(session=session, job_id=job_id, actor=user), readonly=True
    )
    try:
        wiring = runtime(request).wiring
        result = await run_in_threadpool(
            lambda: explain.ask(settings=settings(request), job=job, log=wiring.log_to_read(job_id))
        )
    except LLMError as exc:
        raise app_error(exc) from None
    return await in_db(
        request, lambda session: explain.store(session=session, job_id=job_id, result=result, actor=user)
    )


@operation(
    "Ask the default LLM why a failed job failed; the answer is kept with the job",
    tags=["llm", "jobs"],
    responses={200: Explanation},
    errors=[*LLM_ERRORS, 409],
    description="Sends the job's spec and the end of its log (LLM_EXPLAIN_LOG_BYTES), with the values of "
    "`env`, headers and the app's own secrets replaced by `[redacted]`. 409 unless the job failed.",
)
async def explain_job(request: Request) -> JSONResponse:
    """`POST /api/v1/jobs/{id}/explain`."""
    return JSONResponse(Explanation.of(await explain_failure(request, actor(request))))


@operation(
    "The kept answer of 'explain this failure' (404 when there is none)",
    tags=["llm", "jobs"],
    responses={200: Explanation},
)
async def job_explanation(request: Request) -> JSONResponse:
    """`GET /api/v1/jobs/{id}/explanation`."""
    user = actor(request)
    job_id: int = request.path_params["job_id"]

    def find(session: Session) -> JobExplanation | None:
        return explain.latest(session=session, job_id=job_id, actor=user)

    found = await in_db(request, find, readonly=True)
    if found is None:
        raise AppError(f"Job {job_id} has no explanation yet", 404)
    return JSONResponse(Explanation.of(found))


@operation(
    "LLM calls and tokens per user (superusers)",
    tags=["llm"],
    query=UsageQuery,
    responses={200: UsageReport},
    errors=[403],
)
async def usage(request: Request) -> JSONResponse:
    """`GET /api/v1/llm/usage?days=30`."""
    user = superuser(request)
    query = query_params(request, UsageQuery)
    rows = await in_db(
        request,
        lambda session: usage_per_user(session=session, actor=user, since=since_days(query.days)),
        readonly=True,
    )
    return JSONResponse({"days": query.days, "items": [asdict(row) for row in rows]})
