"""Which events go to which channels.

A job and a scheduler may carry a `notify` rule:

    {"events": ["failed", "recovered"], "channels": ["ops-telegram"], "long_running_seconds": 600}

- `events`: what is notified; missing means the NOTIFY_EVENTS setting, `[]` means nothing.
- `channels`: channel names; missing means every enabled channel.
- `long_running_seconds`: notify `long_running` once when an attempt runs longer than this.

A job's own rule wins over its scheduler's; with neither, the settings decide. The app-start and test
messages are not job events: they go to every enabled channel (or the one tested).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vcore_app.settings import NOTIFY_RULE_EVENTS, Settings, split_list

CHANNEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class NotifyRule(BaseModel):
    """The `notify` field of a job spec and of a scheduler."""

    model_config = ConfigDict(extra="forbid")

    events: list[str] | None = Field(
        default=None, max_length=10, description="Events to notify; default NOTIFY_EVENTS."
    )
    channels: list[str] | None = Field(
        default=None, max_length=20, description="Channel names; default every enabled channel."
    )
    long_running_seconds: float | None = Field(
        default=None, gt=0, le=30 * 86400, description="Notify once when an attempt runs longer."
    )

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if name not in NOTIFY_RULE_EVENTS:
                raise ValueError(f"unknown event {name!r} (choose from {', '.join(NOTIFY_RULE_EVENTS)})")
        return value

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if not re.fullmatch(CHANNEL_NAME_PATTERN, name):
                raise ValueError(f"{name!r} is not a channel name (letters, digits, _ . -)")
        return value


def default_events(settings: Settings) -> list[str]:
    return split_list(settings.NOTIFY_EVENTS)


def effective_rule(job_rule: dict[str, Any] | None, scheduler_rule: dict[str, Any] | None) -> NotifyRule:
    """The job's rule, else its scheduler's, else an empty rule (the defaults)."""
    for raw in (job_rule, scheduler_rule):
        if raw:
            return NotifyRule.model_validate(raw)
    return NotifyRule()


def wants(rule: NotifyRule, event: str, settings: Settings) -> bool:
    events = rule.events if rule.events is not None else default_events(settings)
    return event in events
