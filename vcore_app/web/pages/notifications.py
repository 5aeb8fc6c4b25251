"""`/notifications` (superusers): channels with their health, a test button each, the add form, and
the delivery history with filters. The same domain functions as the API (vcore_app/notify/service.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from vcore_app.errors import AppError
from vcore_app.notify import service
from vcore_app.notify.service import ChannelIn, DeliveryFilter
from vcore_app.web import flash
from vcore_app.web.deps import in_db, settings, superuser
from vcore_app.web.errors import form_errors
from vcore_app.web.templating import render
from vcore_app.web.validation import read_form, validate

PAGE_SIZE = 50
_CHANNEL_FIELDS = ("name", "kind", "to", "chat_id", "url", "secret")


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: DeliveryFilter | None = None
    channel: str | None = Field(default=None, max_length=64)


def _id(request: Request) -> int:
    channel_id: int = request.path_params["channel_id"]
    return channel_id


async def _page(request: Request, values: dict[str, Any] | None = None, exc: AppError | None = None) -> Response:
    actor, config = superuser(request), settings(request)
    # The filter form sends empty fields for "any".
    query = validate(
        HistoryQuery, {key: value for key, value in request.query_params.items() if value}, prefix=("query",)
    )

    def work(session: Session) -> dict[str, Any]:
        channels = [
            service.channel_out(row, config, json=False) for row in service.list_channels(session=session, actor=actor)
        ]
        rows, total = service.list_deliveries(
            session=session, actor=actor, status=query.status, channel=query.channel, limit=PAGE_SIZE
        )
        names = service.channel_names(session=session)
        return {
            "channels": channels,
            "deliveries": [service.delivery_out(row, names, json=False) for row in rows],
            "total": total,
        }

    context = await in_db(request, work, readonly=True)
    errors, error = form_errors(exc) if exc else ({}, None)
    return render(
        request,
        "notifications/index.html",
        {
            "nav": "Notifications",
            **context,
            "query": query,
            "values": values or {"kind": "webhook", "enabled": True},
            "errors": errors,
            "error": error,
            "statuses": ["pending", "sent", "failed", "digested"],
            "unhealthy_after": service.UNHEALTHY_AFTER,
        },
        status=exc.status if exc else 200,
    )


async def notifications_page(request: Request) -> Response:
    return await _page(request)


async def create_channel(request: Request) -> Response:
    actor = superuser(request)
    fields = await read_form(request)
    values: dict[str, Any] = {name: fields.get(name, "").strip() or None for name in _CHANNEL_FIELDS}
    values["enabled"] = "enabled" in fields
    try:
        data = validate(ChannelIn, values)
        created = await in_db(request, lambda session: service.create_channel(session=session, actor=actor, data=data))
    except AppError as exc:
        return await _page(request, {**values, "secret": None}, exc)
    return flash.redirect(request, "/notifications", f"Channel {created.name} added.")


async def toggle_channel(request: Request) -> Response:
    actor = superuser(request)

    def work(session: Session) -> str:
        row = service.get_channel(session=session, actor=actor, channel_id=_id(request))
        changed = service.set_enabled(session=session, actor=actor, channel_id=_id(request), enabled=not row.enabled)
        return f"Channel {changed.name} {'enabled' if changed.enabled else 'disabled'}."

    return flash.redirect(request, "/notifications", await in_db(request, work))


async def delete_channel(request: Request) -> Response:
    actor = superuser(request)
    await in_db(request, lambda session: service.delete_channel(session=session, actor=actor, channel_id=_id(request)))
    return flash.redirect(request, "/notifications", "Channel deleted.")


async def test_channel(request: Request) -> Response:
    actor = superuser(request)
    try:
        rows = await in_db(
            request, lambda session: service.send_test(session=session, actor=actor, channel_id=_id(request))
        )
    except AppError as exc:
        if exc.status != 409:
            raise
        return flash.redirect(request, "/notifications", str(exc.message), "warning")
    return flash.redirect(
        request,
        "/notifications",
        f"Test message queued (delivery #{rows[0].id}); its result shows in the history below.",
        "info",
    )
