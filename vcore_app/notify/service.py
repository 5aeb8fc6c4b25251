"""Channels and deliveries as the UI and the API see them: list, create, change, delete, test, history.

Channels come from two places. The settings (NOTIFY_EMAIL_*, NOTIFY_TELEGRAM_ENABLED with
TELEGRAM_*, NOTIFY_WEBHOOK_*) are mirrored into rows of source "settings" at each start, named
`email`, `telegram` and `webhook`; their secrets stay in the settings and they are changed there.
Superusers add more in the UI or the API (source "db"). Secrets are never sent back: a channel shows
whether one is set and its last four characters.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from vcore_app import audit
from vcore_app.errors import AppError, invalid
from vcore_app.models import User
from vcore_app.notify import outbox
from vcore_app.notify.channels import (
    AppriseChannel,
    Channel,
    EmailChannel,
    TelegramChannel,
    WebhookChannel,
)
from vcore_app.notify.models import (
    ChannelKind,
    DeliveryStatus,
    NotifyChannel,
    NotifyDelivery,
)
from vcore_app.notify.rules import CHANNEL_NAME_PATTERN
from vcore_app.settings import Settings, split_list

SETTINGS_CHANNELS = ("email", "telegram", "webhook", "apprise")
UNHEALTHY_AFTER = 3  # consecutive failed attempts


def _require_superuser(actor: User) -> None:
    if not actor.is_superuser:
        raise AppError("This needs a superuser", 403)


def channel_for(row: NotifyChannel, settings: Settings) -> Channel:
    """The sending object of a channel row; a settings channel takes its secrets from the settings."""
    from_settings = row.source == "settings"
    if row.kind == ChannelKind.EMAIL:
        return EmailChannel(settings=settings, to=settings.NOTIFY_EMAIL_TO if from_settings else row.config["to"])
    if row.kind == ChannelKind.TELEGRAM:
        token = settings.TELEGRAM_API_TOKEN.get_secret_value() if from_settings else row.secret
        chat_id = settings.TELEGRAM_CHAT_ID if from_settings else row.config["chat_id"]
        return TelegramChannel(api_url=settings.TELEGRAM_API_URL, token=token, chat_id=chat_id)
    if row.kind == ChannelKind.WEBHOOK:
        secret = settings.NOTIFY_WEBHOOK_SECRET.get_secret_value() if from_settings else row.secret
        return WebhookChannel(url=settings.NOTIFY_WEBHOOK_URL if from_settings else row.config["url"], secret=secret)
    if row.kind == ChannelKind.APPRISE:
        urls = settings.NOTIFY_URLS.get_secret_value() if from_settings else row.secret
        return AppriseChannel(urls=apprise_urls(urls))
    raise ValueError(f"unknown channel kind {row.kind!r}")


def apprise_urls(value: str) -> list[str]:
    """Apprise URLs separated by commas, spaces or new lines."""
    return [url for url in re.split(r"[\s,]+", value) if url]


def _from_settings(settings: Settings) -> dict[str, tuple[bool, dict[str, Any]]]:
    """name -> (enabled, config) of the channels the settings describe."""
    return {
        "email": (settings.NOTIFY_EMAIL_ENABLED and bool(settings.NOTIFY_EMAIL_TO), {"to": settings.NOTIFY_EMAIL_TO}),
        "telegram": (
            settings.NOTIFY_TELEGRAM_ENABLED
            and bool(settings.TELEGRAM_API_TOKEN.get_secret_value())
            and settings.TELEGRAM_CHAT_ID != 0,
            {"chat_id": settings.TELEGRAM_CHAT_ID},
        ),
        "webhook": (bool(settings.NOTIFY_WEBHOOK_URL), {"url": settings.NOTIFY_WEBHOOK_URL}),
        # The URLs hold the services' tokens: only their schemes are shown.
        "apprise": (
            bool(settings.NOTIFY_URLS.get_secret_value()),
            {"services": _schemes(settings.NOTIFY_URLS.get_secret_value())},
        ),
    }


def _schemes(urls: str) -> str:
    return ", ".join(url.split("://", 1)[0] for url in apprise_urls(urls))


def sync_settings_channels(*, session: Session, settings: Settings) -> None:
    """Mirror the settings into their channel rows: made when first enabled, kept (disabled) after,
    so their delivery history stays."""
    existing = {row.name: row for row in session.exec(select(NotifyChannel).where(NotifyChannel.source == "settings"))}
    for name, (enabled, config) in _from_settings(settings).items():
        row = existing.get(name)
        if row is None and not enabled:
            continue
        row = row or NotifyChannel(name=name, kind=name, source="settings")
        row.enabled, row.config = enabled, config
        session.add(row)


class ChannelIn(BaseModel):
    """A channel a superuser adds or changes. `secret` empty on a change keeps the stored one."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=CHANNEL_NAME_PATTERN, description="Letters, digits, _ . -; used in notify rules.")
    kind: Literal["email", "telegram", "webhook", "apprise"]
    enabled: bool = True
    to: str | None = Field(default=None, max_length=1000, description="email: address(es), comma-separated")
    chat_id: str | None = Field(default=None, max_length=64, description="telegram: chat id or @channel")
    url: str | None = Field(default=None, max_length=2048, description="webhook: where to POST")
    secret: str | None = Field(
        default=None,
        max_length=2000,
        description="telegram: bot token; webhook: signing key; apprise: the service URL(s)",
    )

    @model_validator(mode="after")
    def _fields_of_kind(self) -> ChannelIn:
        if self.name in SETTINGS_CHANNELS:
            raise ValueError(f"the name {self.name!r} belongs to the channel configured by settings")
        return self


def _check_kind_fields(data: ChannelIn, *, has_secret: bool) -> dict[str, Any]:
    """The config of the kind, or a 422 naming the missing or bad field."""
    if data.kind == "email":
        addresses = split_list(data.to or "")
        if not addresses or not all(re.fullmatch(r"[^@\s,]+@[^@\s,]+", a) for a in addresses):
            raise invalid("to", "one or more e-mail addresses, comma-separated")
        return {"to": ", ".join(addresses)}
    if data.kind == "telegram":
        chat = (data.chat_id or "").strip()
        if not re.fullmatch(r"-?\d+|@[A-Za-z0-9_]{5,}", chat):
            raise invalid("chat_id", "a numeric chat id or @channelname")
        if not (data.secret or has_secret):
            raise invalid("secret", "the bot token is required")
        return {"chat_id": int(chat) if chat.lstrip("-").isdigit() else chat}
    if data.kind == "apprise":
        if not (data.secret or has_secret):
            raise invalid("secret", "one or more Apprise URLs (e.g. ntfy://topic), which hold the service's token")
        if data.secret and not all("://" in url for url in apprise_urls(data.secret)):
            raise invalid("secret", "Apprise URLs look like scheme://...")
        return {"services": _schemes(data.secret)} if data.secret else {}
    url = (data.url or "").strip()
    if not re.match(r"https?://[^/\s]+", url) or not _has_host(url):
        raise invalid("url", "an http:// or https:// URL with a host")
    return {"url": url}


def _has_host(url: str) -> bool:
    """What the sender's HTTP client can post to: parsable, with a host (as an api_post job's URL)."""
    import httpx  # on first use: serving starts without it

    try:
        return bool(httpx.URL(url).host)
    except httpx.InvalidURL:
        return False


def list_channels(*, session: Session, actor: User) -> list[NotifyChannel]:
    _require_superuser(actor)
    return list(session.exec(select(NotifyChannel).order_by(col(NotifyChannel.source).desc(), col(NotifyChannel.name))))


def get_channel(*, session: Session, actor: User, channel_id: int) -> NotifyChannel:
    _require_superuser(actor)
    row = session.get(NotifyChannel, channel_id)
    if row is None:
        raise AppError(f"Channel {channel_id} not found", 404)
    return row


def create_channel(*, session: Session, actor: User, data: ChannelIn) -> NotifyChannel:
    _require_superuser(actor)
    config = _check_kind_fields(data, has_secret=False)
    if session.exec(select(NotifyChannel.id).where(NotifyChannel.name == data.name)).first() is not None:
        raise invalid("name", f"a channel named {data.name!r} exists")
    row = NotifyChannel(
        name=data.name, kind=data.kind, source="db", enabled=data.enabled, config=config, secret=data.secret or ""
    )
    session.add(row)
    session.flush()
    audit.record(session, action="channel.create", target=_channel_target(row), actor=actor)
    return row


def update_channel(*, session: Session, actor: User, channel_id: int, data: ChannelIn) -> NotifyChannel:
    row = _editable(get_channel(session=session, actor=actor, channel_id=channel_id))
    if data.kind != row.kind:
        raise invalid("kind", "the kind of a channel cannot change; add a new channel")
    config = _check_kind_fields(data, has_secret=bool(row.secret))
    clash = session.exec(
        select(NotifyChannel.id).where(NotifyChannel.name == data.name, NotifyChannel.id != row.id)
    ).first()
    if clash is not None:
        raise invalid("name", f"a channel named {data.name!r} exists")
    keep_config = data.kind == "apprise" and not data.secret  # the schemes come from the kept URLs
    row.name, row.enabled, row.config = data.name, data.enabled, row.config if keep_config else config
    if data.secret:
        row.secret = data.secret
    session.add(row)
    audit.record(session, action="channel.update", target=_channel_target(row), actor=actor)
    return row


def set_enabled(*, session: Session, actor: User, channel_id: int, enabled: bool) -> NotifyChannel:
    row = _editable(get_channel(session=session, actor=actor, channel_id=channel_id))
    row.enabled = enabled
    session.add(row)
    action = "channel.enable" if enabled else "channel.disable"
    audit.record(session, action=action, target=_channel_target(row), actor=actor)
    return row


def delete_channel(*, session: Session, actor: User, channel_id: int) -> None:
    """Its delivery history goes with it."""
    row = _editable(get_channel(session=session, actor=actor, channel_id=channel_id))
    session.execute(delete(NotifyDelivery).where(col(NotifyDelivery.channel_id) == row.id))
    session.delete(row)
    audit.record(session, action="channel.delete", target=_channel_target(row), actor=actor)


def _channel_target(row: NotifyChannel) -> str:
    """A channel in the audit log: its name and kind, never its URL or secret."""
    return f"channel {row.id} {row.name} ({row.kind})"


def editable_channel(*, session: Session, actor: User, channel_id: int) -> NotifyChannel:
    """A channel a superuser may change: 409 for one configured by the settings."""
    return _editable(get_channel(session=session, actor=actor, channel_id=channel_id))


def _editable(row: NotifyChannel) -> NotifyChannel:
    if row.source == "settings":
        raise AppError(f"Channel '{row.name}' is configured by the settings; change them to change it", 409)
    return row


def healthy(row: NotifyChannel) -> bool:
    return row.consecutive_failures < UNHEALTHY_AFTER


def channel_out(row: NotifyChannel, settings: Settings, *, json: bool = True) -> dict[str, Any]:
    """A channel for the API (`json`) and the pages: whether a secret is set and its last 4
    characters, never more."""
    if row.source == "settings":
        secret = {
            "telegram": settings.TELEGRAM_API_TOKEN.get_secret_value(),
            "webhook": settings.NOTIFY_WEBHOOK_SECRET.get_secret_value(),
            "apprise": settings.NOTIFY_URLS.get_secret_value(),
        }.get(row.kind, "")
    else:
        secret = row.secret
    body = row.model_dump(mode="json" if json else "python", exclude={"secret"})
    body["secret_set"] = bool(secret)
    # Apprise URLs end in a topic or a token: no hint.
    body["secret_hint"] = "…" + secret[-4:] if len(secret) >= 16 and row.kind != ChannelKind.APPRISE else ""
    body["healthy"] = healthy(row)
    return body


def unhealthy_channels(*, session: Session) -> list[NotifyChannel]:
    """Enabled channels whose last UNHEALTHY_AFTER attempts all failed (the dashboard shows them)."""
    return list(
        session.exec(
            select(NotifyChannel)
            .where(NotifyChannel.enabled, NotifyChannel.consecutive_failures >= UNHEALTHY_AFTER)
            .order_by(col(NotifyChannel.name))
        )
    )


def send_test(*, session: Session, actor: User, channel_id: int | None = None, text: str = "") -> list[NotifyDelivery]:
    """A test message to one channel, or to every enabled one; 409 when there is none to send to."""
    _require_superuser(actor)
    names = None
    if channel_id is not None:
        row = get_channel(session=session, actor=actor, channel_id=channel_id)
        if not row.enabled:
            raise AppError(f"Channel '{row.name}' is disabled", 409)
        names = [row.name]
    payload = {"title": f"Test message from {actor.username}", "detail": text or "If you read this, the channel works."}
    rows = outbox.enqueue(session=session, event="test", payload=payload, channels=names, group_key="")
    if not rows:
        raise AppError("No enabled notification channel to send to", 409)
    return rows


DeliveryFilter = Literal["pending", "sending", "held", "sent", "failed", "digested"]


def list_deliveries(
    *,
    session: Session,
    actor: User,
    status: str | None = None,
    channel: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[NotifyDelivery], int]:
    """The delivery history, newest first; `channel` is a channel's id or name. `pending` includes
    the rows being sent and those held for a digest."""
    _require_superuser(actor)
    filters: list[Any] = []
    if status == DeliveryStatus.PENDING:
        filters.append(
            col(NotifyDelivery.status).in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.HELD))
        )
    elif status:
        filters.append(NotifyDelivery.status == status)
    if channel:
        found = session.exec(
            select(NotifyChannel.id).where(
                NotifyChannel.id == int(channel)
                if re.fullmatch(r"[0-9]{1,18}", channel)
                else NotifyChannel.name == channel
            )
        ).first()
        filters.append(NotifyDelivery.channel_id == (found if found is not None else -1))
    rows = session.exec(
        select(NotifyDelivery).where(*filters).order_by(col(NotifyDelivery.id).desc()).limit(limit).offset(offset)
    ).all()
    total = session.exec(select(func.count()).select_from(NotifyDelivery).where(*filters)).one()
    return list(rows), total


def delivery_out(row: NotifyDelivery, channel_names: dict[int, str], *, json: bool = True) -> dict[str, Any]:
    body = row.model_dump(mode="json" if json else "python", exclude={"payload", "boot_id", "dedupe_key"})
    body["channel"] = channel_names.get(row.channel_id, "")
    body["title"] = row.payload.get("title", row.event)
    body["url"] = row.payload.get("url")
    return body


def channel_names(*, session: Session) -> dict[int, str]:
    return {row.id: row.name for row in session.exec(select(NotifyChannel)) if row.id is not None}
