"""What a real SMTP server on loopback received (the server itself is the `smtp_server` fixture)."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from tests.support.waiting import wait_for


@dataclass
class Mailbox:
    """What a real SMTP server on loopback received."""

    host: str
    port: int
    messages: list[Message] = field(default_factory=list)

    def wait_for_mail(self, to: str, count: int = 1) -> Message:
        """The `count`-th mail to `to`, once it has arrived."""

        def arrived() -> Message | None:
            mails = [message for message in self.messages if message["To"] == to]
            return mails[count - 1] if len(mails) >= count else None

        mail: Message = wait_for(arrived)
        return mail


def smtp_settings(mailbox: Mailbox) -> dict[str, Any]:
    """The settings that make an app send its mail to `mailbox`."""
    return {"EMAILS_ENABLED": True, "SMTP_HOST": mailbox.host, "SMTP_PORT": mailbox.port, "SMTP_TLS": False}
