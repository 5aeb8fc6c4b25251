"""The notification tables: channels (where messages go) and deliveries (the outbox).

A delivery row is written in the same transaction as the change it reports (a job's final state,
a scheduler's missed slot), so a crash between that commit and the send loses nothing: the sender
(outbox.py) finds the row pending after a restart. The row is also the delivery history shown on the
Notifications page: its attempts are kept in `history`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from vcore_app.models import utcnow


class ChannelKind(StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"
    WEBHOOK = "webhook"
    APPRISE = "apprise"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # handed to a channel by the sender of boot `boot_id`
    HELD = "held"  # over the storm limit: waits to be folded into a digest
    SENT = "sent"
    FAILED = "failed"  # gave up: a permanent error or NOTIFY_MAX_ATTEMPTS reached
    DIGESTED = "digested"  # folded into the digest `digest_id`


class NotifyChannel(SQLModel, table=True):
    """A destination. Rows of `source` "settings" mirror the NOTIFY_*/TELEGRAM_*/webhook settings
    (their secrets stay in the settings); rows of source "db" are managed in the UI and the API."""

    __tablename__ = "notify_channel"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=16)
    source: str = Field(default="db", max_length=16)
    enabled: bool = True
    # Non-secret parts: `to` (email), `chat_id` (telegram), `url` (webhook), `services` (apprise: schemes).
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Bot token, webhook signing key or Apprise URLs of a "db" channel; never sent back in full.
    secret: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=1000)
    consecutive_failures: int = 0


class NotifyDelivery(SQLModel, table=True):
    """One message to one channel: the outbox row and its delivery history."""

    __tablename__ = "notify_delivery"

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="notify_channel.id", ondelete="CASCADE", index=True)
    event: str = Field(max_length=32)
    # Storm control counts messages per channel and group ("failed:scheduler:3", "failed:jobs").
    group_key: str = Field(max_length=128)
    # Set for events that must be reported once (a job's final state, a missed slot).
    dedupe_key: str | None = Field(default=None, max_length=128, unique=True)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16, index=True)
    # What the templates render: job, scheduler, log tail, link; for a digest, the folded items.
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    boot_id: str | None = Field(default=None, max_length=32)
    digest_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # One entry per attempt: {"at", "ok", "error"}.
    history: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
