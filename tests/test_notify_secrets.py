"""The bot token, the SMTP password and the webhook keys never show: a real server at DEBUG level
notifies by Telegram, by mail (STARTTLS with login) and by webhook, fails with a wrong token, and
then no log file, no page and no API answer holds any of them."""

from __future__ import annotations

from pathlib import Path

from tests.support.apps import ADMIN, ADMIN_ENV, app_env, start_app, wait_until_healthy
from tests.support.auth import login
from tests.support.notify import (
    STARTUP_SECONDS,
    eventually,
    fake_telegram,
    tls_smtp_server,
    webhook_receiver,
)
from tests.support.pages import HTML
from tests.support.tls import self_signed_cert

TOKEN = "987654321:AAF-the-real-bot-token-never-shown-xyz"
SMTP_PASSWORD = "the-smtp-password-never-shown-1"
HOOK_SECRET = "the-webhook-secret-never-shown-2"
DB_SECRET = "555:a-channel-token-stored-in-the-db-3"


def test_no_bot_token_or_smtp_password_in_any_log_or_page(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    with (
        fake_telegram(TOKEN) as bot,
        webhook_receiver(secret=HOOK_SECRET) as hook,
        tls_smtp_server(cert, key, implicit=False, user="mailer", password=SMTP_PASSWORD) as box,
    ):
        app = start_app(
            tmp_path / "data",
            env=app_env(
                LOG_LEVEL="DEBUG",
                SSL_CERT_FILE=str(cert),
                **ADMIN_ENV,
                NOTIFY_TELEGRAM_ENABLED="true",
                TELEGRAM_API_TOKEN=TOKEN,
                TELEGRAM_CHAT_ID="-1001",
                TELEGRAM_API_URL=bot.url,
                NOTIFY_EMAIL_ENABLED="true",
                NOTIFY_EMAIL_TO="ops@example.com",
                SMTP_HOST=box.host,
                SMTP_PORT=str(box.port),
                SMTP_TLS="true",
                SMTP_USER="mailer",
                SMTP_PASSWORD=SMTP_PASSWORD,
                NOTIFY_WEBHOOK_URL=hook.url,
                NOTIFY_WEBHOOK_SECRET=HOOK_SECRET,
                NOTIFY_ON_START="true",
                NOTIFY_MAX_ATTEMPTS="1",
            ),
            wait=False,
        )
        wait_until_healthy(app, timeout=STARTUP_SECONDS)
        http = app.http
        headers = login(http, ADMIN["username"], ADMIN["password"])
        job = http.post(
            "/api/v1/jobs",
            headers=headers,
            json={"type": "command", "command": "echo working; exit 1", "name": "secret-check"},
        ).json()
        wrong = http.post(
            "/api/v1/notifications/channels",
            headers=headers,
            json={"name": "wrong-bot", "kind": "telegram", "chat_id": "12", "secret": DB_SECRET},
        ).json()
        http.post("/api/v1/notifications/test", json={"channel_id": wrong["id"]}, headers=headers)
        history = "/api/v1/notifications/deliveries"
        eventually(
            lambda: (
                http.get(history, headers=headers).json()["total"] == 8  # 3 start, 4 failed, 1 test
                and http.get(f"{history}?status=pending", headers=headers).json()["total"] == 0
            )
        )
        assert len(bot.accepted()) == 2 and len(hook.accepted()) == 2 and len(box.messages) == 2
        assert box.logins and http.get(f"{history}?status=failed", headers=headers).json()["total"] == 2
        browser = {**headers, **HTML}
        pages = [
            http.get(path, headers=browser).text
            for path in (
                "/",
                "/notifications",
                "/notifications?status=failed",
                f"/jobs/{job['id']}",
                "/logs",
                "/logs/tail",
            )
        ]
        pages += [
            http.get(path, headers=headers).text
            for path in (
                "/api/v1/notifications/channels",
                f"/api/v1/notifications/channels/{wrong['id']}",
                history,
                f"/api/v1/jobs/{job['id']}",
                f"/api/v1/jobs/{job['id']}/log",
                "/healthz",
            )
        ]
        assert "wrong-bot" in pages[1] and "Telegram API answered 401" in pages[2]
        assert app.stop() == 0
    logs = [app.output(), *(path.read_text(errors="replace") for path in (app.data_dir / "logs").rglob("*.log"))]
    assert "notification" in logs[0] + logs[1], "the log is on and was written"
    for secret in (TOKEN, SMTP_PASSWORD, HOOK_SECRET, DB_SECRET):
        found = [i for i, text in enumerate(logs + pages) if secret in text]
        assert not found, f"{secret[:10]}... shown in {found}"
