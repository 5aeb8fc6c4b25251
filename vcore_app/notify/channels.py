"""Channels: one small class per kind of destination, each with `send(message)`.

A failed send raises DeliveryError saying whether retrying can help (`permanent`): a refused
recipient, a bad token or a 4xx will fail again; a timeout, a refused connection or a 5xx may not.
Reasons never hold a secret (the bot token is in Telegram's URL path, so its errors are rebuilt here
rather than passed on), and bodies are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from vcore_app.notify.mail import build_mail, smtp_send
from vcore_app.settings import Settings

_HTTP_TIMEOUT_SECONDS = 10.0
TELEGRAM_MAX_CHARS = 4096
SIGNATURE_HEADER = "X-Vcore-Signature"
TIMESTAMP_HEADER = "X-Vcore-Timestamp"
DELIVERY_HEADER = "X-Vcore-Delivery"
EVENT_HEADER = "X-Vcore-Event"


class DeliveryError(Exception):
    """A send that did not happen: `reason` for the history, `permanent` if a retry cannot help."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Message:
    """One notification rendered for every format: mail (text and HTML), Telegram HTML, and the
    structured `data` a webhook posts."""

    delivery_id: int
    event: str
    subject: str
    text: str
    html: str
    telegram_html: str
    data: dict[str, Any] = field(default_factory=dict)


class Channel:
    """A destination. Subclasses implement `send`; it blocks (the sender calls it on its own threads)."""

    kind = ""

    def send(self, message: Message) -> None:
        """Deliver `message` or raise DeliveryError."""
        raise NotImplementedError


class EmailChannel(Channel):
    """A mail with a plain-text and an HTML part, through SMTP_* (SSL or STARTTLS)."""

    kind = "email"

    def __init__(self, *, settings: Settings, to: str) -> None:
        self.settings = settings
        self.to = to

    def send(self, message: Message) -> None:
        if not self.settings.SMTP_HOST:
            raise DeliveryError("SMTP_HOST is not set", permanent=True)
        mail = build_mail(
            settings=self.settings, to=self.to, subject=message.subject, text=message.text, html=message.html
        )
        try:
            smtp_send(self.settings, mail)
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise DeliveryError(f"SMTP refused: {_smtp_reason(exc)}", permanent=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"SMTP {self.settings.SMTP_HOST}:{self.settings.SMTP_PORT}: {_smtp_reason(exc)}"
            ) from None


def _smtp_reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"[:300]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "recipients refused: " + ", ".join(exc.recipients)[:300]
    return (str(exc) or type(exc).__name__)[:300]


class TelegramChannel(Channel):
    """The Bot API's `sendMessage`, with Telegram's HTML subset (`parse_mode=HTML`)."""

    kind = "telegram"

    def __init__(self, *, api_url: str, token: str, chat_id: int | str) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.chat_id = chat_id

    def send(self, message: Message) -> None:
        if not self.token:
            raise DeliveryError("no bot token set", permanent=True)
        body = {
            "chat_id": self.chat_id,
            "text": message.telegram_html,
            "parse_mode": "HTML",
            "disable_web_page_preview": True,
        }
        try:
            response = httpx.post(
                f"{self.api_url}/bot{self.token}/sendMessage", json=body, timeout=_HTTP_TIMEOUT_SECONDS
            )
        except httpx.HTTPError as exc:
            # httpx errors may carry the request URL, which holds the token: name the kind only.
            raise DeliveryError(f"Telegram API unreachable ({type(exc).__name__})") from None
        except (httpx.InvalidURL, ValueError):  # a token or chat id no request can carry
            raise DeliveryError("the bot token or chat id cannot be sent in a request", permanent=True) from None
        if response.status_code == 200:
            return
        try:
            description = str(response.json().get("description", ""))
        except ValueError:
            description = ""
        description = description.replace(self.token, "***")[:300]
        status = response.status_code
        raise DeliveryError(
            f"Telegram API answered {status}: {description}".rstrip(": "),
            permanent=400 <= status < 500 and status not in (408, 429),
        )


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp.body`, as the README's verification snippet checks it."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookChannel(Channel):
    """POST the message as JSON; with a secret, signed (timestamp + body) against forgery and replay."""

    kind = "webhook"

    def __init__(self, *, url: str, secret: str = "") -> None:
        self.url = url
        self.secret = secret

    def send(self, message: Message) -> None:
        body = json.dumps(
            {"event": message.event, "subject": message.subject, "text": message.text, **message.data},
            separators=(",", ":"),
            default=str,
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            DELIVERY_HEADER: str(message.delivery_id),
            EVENT_HEADER: message.event,
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, timestamp, body)
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=_HTTP_TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook unreachable ({type(exc).__name__}: {exc})"[:300]) from None
        except (httpx.InvalidURL, ValueError) as exc:  # stored before its URL was checked as it is now
            raise DeliveryError(f"webhook URL unusable ({exc})"[:300], permanent=True) from None
        status = response.status_code
        if status >= 300:
            raise DeliveryError(
                f"webhook answered {status}", permanent=400 <= status < 500 and status not in (408, 429)
            )


class AppriseChannel(Channel):
    """Slack, Discord, ntfy, Gotify, Matrix and ~100 more, each by an Apprise URL (NOTIFY_URLS).

    Apprise is imported on the first send, never at start (its import and plugin scan cost about a
    second). Its own log is kept at WARNING: at DEBUG it prints request URLs, which hold the services'
    tokens."""

    kind = "apprise"

    def __init__(self, *, urls: list[str]) -> None:
        self.urls = urls

    def send(self, message: Message) -> None:
        import apprise

        logging.getLogger("apprise").setLevel(logging.WARNING)
        notifier = apprise.Apprise()
        for number, url in enumerate(self.urls, start=1):
            if not notifier.add(url):
                raise DeliveryError(f"Apprise does not understand URL number {number}", permanent=True)
        if not notifier.notify(title=message.subject, body=message.text, body_format=apprise.NotifyFormat.TEXT):
            raise DeliveryError("Apprise could not deliver to every service (see the app log)")
