"""Mail over SMTP (stdlib smtplib; blocking: call it from a thread, never on the event loop).

`send_email` is for password-reset mails (auth/recovery.py); notification mails go through
channels.EmailChannel, which shares the connection code here. Mail bodies may hold secrets (reset
links): they are never logged, and neither is the SMTP password.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr

from loguru import logger

from vcore_app.settings import Settings, split_list

_TIMEOUT_SECONDS = 20


def build_mail(*, settings: Settings, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    """A mail from EMAILS_FROM_*; with `html`, a multipart/alternative of text and HTML."""
    message = EmailMessage()
    message["From"] = formataddr((settings.EMAILS_FROM_NAME, settings.EMAILS_FROM_EMAIL))
    message["To"] = ", ".join(split_list(to))
    message["Subject"] = subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def smtp_send(settings: Settings, message: EmailMessage) -> None:
    """Send through SMTP_HOST: implicit TLS with SMTP_SSL, else STARTTLS with SMTP_TLS. Raises
    OSError or smtplib.SMTPException."""
    host, port = settings.SMTP_HOST, settings.SMTP_PORT
    smtp = (
        smtplib.SMTP_SSL(host, port, timeout=_TIMEOUT_SECONDS, context=ssl.create_default_context())
        if settings.SMTP_SSL
        else smtplib.SMTP(host, port, timeout=_TIMEOUT_SECONDS)
    )
    with smtp:
        if settings.SMTP_TLS and not settings.SMTP_SSL:
            smtp.starttls(context=ssl.create_default_context())
        if settings.SMTP_USER:
            smtp.login(settings.SMTP_USER, settings.SMTP_PASSWORD.get_secret_value())
        smtp.send_message(message)


def send_email(*, settings: Settings, to: str, subject: str, text: str) -> bool:
    """Send one plain-text mail; log a failure (without the body) and return False instead of raising."""
    try:
        smtp_send(settings, build_mail(settings=settings, to=to, subject=subject, text=text))
    except (OSError, smtplib.SMTPException) as exc:
        logger.error("could not send mail {!r} via {}:{}: {}", subject, settings.SMTP_HOST, settings.SMTP_PORT, exc)
        return False
    logger.info("sent mail {!r}", subject)
    return True
