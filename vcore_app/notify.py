"""Notifications. For now one channel: e-mail over SMTP (stdlib smtplib; blocking: call it from a
thread, e.g. a Starlette BackgroundTask, never on the event loop).

Mail bodies may hold secrets (reset links): they are never logged, and neither is the SMTP password.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr

from loguru import logger

from vcore_app.settings import Settings

_TIMEOUT_SECONDS = 20


def send_email(*, settings: Settings, to: str, subject: str, text: str) -> bool:
    """Send one plain-text mail; log a failure (without the body) and return False instead of raising."""
    message = EmailMessage()
    message["From"] = formataddr((settings.EMAILS_FROM_NAME, settings.EMAILS_FROM_EMAIL))
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    host, port = settings.SMTP_HOST, settings.SMTP_PORT
    try:
        # connecting happens in the constructor, so it belongs inside the `try`
        connection = (
            smtplib.SMTP_SSL(host, port, timeout=_TIMEOUT_SECONDS, context=ssl.create_default_context())
            if settings.SMTP_SSL
            else smtplib.SMTP(host, port, timeout=_TIMEOUT_SECONDS)
        )
        with connection as smtp:
            if settings.SMTP_TLS and not settings.SMTP_SSL:
                smtp.starttls(context=ssl.create_default_context())
            if settings.SMTP_USER:
                smtp.login(settings.SMTP_USER, settings.SMTP_PASSWORD.get_secret_value())
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        logger.error("could not send mail {!r} via {}:{}: {}", subject, settings.SMTP_HOST, settings.SMTP_PORT, exc)
        return False
    logger.info("sent mail {!r}", subject)
    return True
