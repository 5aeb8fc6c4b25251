"""Notifications: channels (mail, Telegram, webhook), rules, the outbox and its sender.

`send_email` stays importable from here for the password-reset mail (auth/recovery.py).
"""

from vcore_app.notify.mail import send_email

__all__ = ["send_email"]
