"""`/api/v1/notifications/...`: channels (CRUD), a test message, the delivery history. Superusers
only; the Notifications page calls the same domain functions (vcore_app/notify/service.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vcore_app.models import ID_MAX
from vcore_app.notify import service
from vcore_app.notify.service import ChannelIn, DeliveryFilter
from vcore_app.web.apidoc import operation
from vcore_app.web.deps import in_db, settings, superuser
from vcore_app.web.validation import json_body, json_body_raw, query_params, validate


class TestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel_id: int | None = Field(
        default=None, ge=1, le=ID_MAX, description="Only this channel; default every enabled one."
    )
    text: str = Field(default="", max_length=1000)


class DeliveryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: DeliveryFilter | None = None
    channel: str | None = Field(default=None, max_length=64, description="A channel's id or name.")
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=ID_MAX)


class ChannelOut(BaseModel):
    """A channel with its health; of its secret only whether one is set and a hint of its end."""

    id: int
    name: str
    kind: str
    source: str = Field(description="`settings` (read-only here) or `db` (managed in the UI and the API)")
    enabled: bool
    config: dict[str, Any]
    created_at: datetime
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    secret_set: bool
    secret_hint: str
    healthy: bool


class ChannelList(BaseModel):
    items: list[ChannelOut]
    total: int


class DeliveryOut(BaseModel):
    """One message to one channel and each attempt to send it."""

    id: int
    channel_id: int
    channel: str
    event: str
    group_key: str
    status: str
    title: Any
    url: Any
    attempts: int
    next_attempt_at: datetime
    digest_id: int | None
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    history: list[dict[str, Any]]


class DeliveryList(BaseModel):
    """The deliveries a test message made."""

    items: list[DeliveryOut]


class DeliveryPage(DeliveryList):
    """A page of the delivery history, newest first, and how many match in all."""

    total: int


def _id(request: Request) -> int:
    channel_id: int = request.path_params["channel_id"]
    return channel_id


@operation("List notification channels", tags=["notifications"], responses={200: ChannelList}, errors=[403])
async def list_channels(request: Request) -> JSONResponse:
    actor, config = superuser(request), settings(request)
    items = await in_db(
        request,
        lambda session: [
            service.channel_out(row, config) for row in service.list_channels(session=session, actor=actor)
        ],
        readonly=True,
    )
    return JSONResponse({"items": items, "total": len(items)})


@operation(
    "Add a notification channel", tags=["notifications"], body=ChannelIn, responses={201: ChannelOut}, errors=[403]
)
async def create_channel(request: Request) -> JSONResponse:
    actor, config = superuser(request), settings(request)
    data = await json_body(request, ChannelIn)
    body = await in_db(
        request,
        lambda session: service.channel_out(service.create_channel(session=session, actor=actor, data=data), config),
    )
    return JSONResponse(body, status_code=201)


@operation("A notification channel", tags=["notifications"], responses={200: ChannelOut}, errors=[403])
async def get_channel(request: Request) -> JSONResponse:
    actor, config = superuser(request), settings(request)
    body = await in_db(
        request,
        lambda session: service.channel_out(
            service.get_channel(session=session, actor=actor, channel_id=_id(request)), config
        ),
        readonly=True,
    )
    return JSONResponse(body)


@operation(
    "Change a notification channel",
    tags=["notifications"],
    body=ChannelIn,
    responses={200: ChannelOut},
    errors=[403, 409],
    description="Fields left out keep their stored values; an empty secret keeps the stored one.",
)
async def update_channel(request: Request) -> JSONResponse:
    """A whole channel, or only the fields sent (the rest as stored; an empty secret keeps it)."""
    actor, config = superuser(request), settings(request)
    payload = await json_body_raw(request)

    def work(session: Session) -> dict[str, Any]:
        current = service.editable_channel(session=session, actor=actor, channel_id=_id(request))
        stored = {key: value for key, value in current.config.items() if key in ChannelIn.model_fields}
        merged = {"name": current.name, "kind": current.kind, "enabled": current.enabled, **stored, **payload}
        merged = {key: str(value) if key == "chat_id" and value is not None else value for key, value in merged.items()}
        data = validate(ChannelIn, merged)
        return service.channel_out(
            service.update_channel(session=session, actor=actor, channel_id=_id(request), data=data), config
        )

    return JSONResponse(await in_db(request, work))


@operation(
    "Delete a notification channel and its history",
    tags=["notifications"],
    responses={204: "empty"},
    errors=[403, 409],
)
async def delete_channel(request: Request) -> Response:
    actor = superuser(request)
    await in_db(request, lambda session: service.delete_channel(session=session, actor=actor, channel_id=_id(request)))
    return Response(status_code=204)


@operation(
    "Send a test message",
    tags=["notifications"],
    body=TestIn,
    responses={202: DeliveryList},
    errors=[403, 404, 409],
)
async def send_test(request: Request) -> JSONResponse:
    """Queue a test message; 202 with the deliveries (follow them in the history)."""
    actor = superuser(request)
    data = await json_body(request, TestIn)

    def work(session: Session) -> dict[str, Any]:
        rows = service.send_test(session=session, actor=actor, channel_id=data.channel_id, text=data.text)
        names = service.channel_names(session=session)
        return {"items": [service.delivery_out(row, names) for row in rows]}

    return JSONResponse(await in_db(request, work), status_code=202)


@operation(
    "The delivery history", tags=["notifications"], query=DeliveryQuery, responses={200: DeliveryPage}, errors=[403]
)
async def list_deliveries(request: Request) -> JSONResponse:
    actor = superuser(request)
    query = query_params(request, DeliveryQuery)

    def work(session: Session) -> dict[str, Any]:
        rows, total = service.list_deliveries(
            session=session,
            actor=actor,
            status=query.status,
            channel=query.channel,
            limit=query.limit,
            offset=query.offset,
        )
        names = service.channel_names(session=session)
        return {"items": [service.delivery_out(row, names) for row in rows], "total": total}

    return JSONResponse(await in_db(request, work, readonly=True))
