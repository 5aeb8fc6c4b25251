"""JSON handlers of the LLM helpers: a completion (whole or streamed as text), "explain this failure"
of a job, and token usage per user (superusers). The pages (web/pages/llm.py, web/pages/tools.py)
share `explain_failure` and `stream_text` with them.

The client modules are imported inside the handlers: the app starts without them (vcore_app/llm).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from vcore_app.errors import AppError
from vcore_app.llm import explain
from vcore_app.llm.usage import check_allowed, recorder, since_days, usage_per_user
from vcore_app.models import JobExplanation, User
from vcore_app.tools import ToolFailed
from vcore_app.web.deps import actor, in_db, runtime, settings, superuser
from vcore_app.web.validation import json_body, query_params


class CompletionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(min_length=1, max_length=200_000)
    provider: Literal["openai", "anthropic", "google", "groq", "local"] | None = None
    model: str | None = Field(None, max_length=128)
    system: str | None = Field(None, max_length=20_000)
    max_tokens: int = Field(1024, ge=1, le=200_000)
    temperature: float | None = Field(None, ge=0, le=2)
    stream: bool = False


class UsageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(30, ge=1, le=3650)


def app_error(exc: Any) -> AppError:
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

    return StreamingResponse(body(), media_type="text/plain; charset=utf-8",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def complete(request: Request) -> Response:
    """`POST /api/v1/llm/complete`: `{"text", "usage"}`, or with `"stream": true` the text as it comes."""
    from vcore_app.llm.client import LLM, LLMError

    user = actor(request)
    body = await json_body(request, CompletionBody)
    check_allowed(user)
    client = LLM(settings(request), on_result=recorder(runtime(request).engine, purpose="api", user_id=user.id))
    options = body.model_dump(exclude={"prompt", "stream"})
    try:
        if body.stream:
            stream = client.stream(body.prompt, **options)  # a missing key is known before anything is sent
        else:
            result = await run_in_threadpool(lambda: client.complete(body.prompt, **options))
    except LLMError as exc:
        raise app_error(exc) from None
    if body.stream:
        return await stream_text(stream)
    return JSONResponse({"text": result.text, "usage": result.usage})


def explanation_json(explanation: JobExplanation) -> dict[str, Any]:
    return {"job_id": explanation.job_id, "text": explanation.text, "provider": explanation.provider,
            "model": explanation.model, "created_at": explanation.created_at.isoformat()}


async def explain_failure(request: Request, user: User) -> JobExplanation:
    """Check, ask (outside any transaction: an LLM answer takes seconds), keep the answer."""
    from vcore_app.llm.client import LLMError

    job_id: int = request.path_params["job_id"]
    job = await in_db(request, lambda session: explain.failed_job(session=session, job_id=job_id, actor=user),
                      readonly=True)
    try:
        result = await run_in_threadpool(lambda: explain.ask(settings=settings(request), job=job))
    except LLMError as exc:
        raise app_error(exc) from None
    return await in_db(request, lambda session: explain.store(session=session, job_id=job_id, result=result, actor=user))


async def explain_job(request: Request) -> JSONResponse:
    """`POST /api/v1/jobs/{id}/explain`: ask why a failed job failed; the answer is kept with the job."""
    return JSONResponse(explanation_json(await explain_failure(request, actor(request))))


async def job_explanation(request: Request) -> JSONResponse:
    """`GET /api/v1/jobs/{id}/explanation`: the kept answer, 404 when there is none."""
    from vcore_app.jobs import service

    user = actor(request)
    job_id: int = request.path_params["job_id"]

    def find(session: Any) -> JobExplanation | None:
        service.get_job(session=session, job_id=job_id, owner=service.owner_filter(user))
        return explain.latest(session=session, job_id=job_id)

    found = await in_db(request, find, readonly=True)
    if found is None:
        raise AppError(f"Job {job_id} has no explanation yet", 404)
    return JSONResponse(explanation_json(found))


async def usage(request: Request) -> JSONResponse:
    """`GET /api/v1/llm/usage?days=30`: calls and tokens per user (superusers)."""
    user = superuser(request)
    query = query_params(request, UsageQuery)
    rows = await in_db(request, lambda session: usage_per_user(session=session, actor=user,
                                                               since=since_days(query.days)), readonly=True)
    return JSONResponse({"days": query.days, "items": [asdict(row) for row in rows]})
