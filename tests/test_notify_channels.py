"""Each channel against a real server on loopback: e-mail through aiosmtpd over STARTTLS and over
implicit TLS with a login (text and HTML parts), Telegram through a local Bot API server (its HTML
subset, escaped), and the test message of the API."""

from __future__ import annotations

from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN, make_settings
from tests.support.auth import login
from tests.support.jobs import create, wait_status
from tests.support.notify import eventually, fake_telegram, tls_smtp_server
from tests.support.tls import self_signed_cert
from vcore_app.app import create_app

SMTP_USER, SMTP_PASSWORD = "mailer", "smtp-password-Very-Secret-1"
TOKEN = "123456789:AAH-fake-bot-token-for-tests_0123456789"
NASTY = "<script>alert(1)</script> & <b>not bold</b>"


@pytest.fixture
def cert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A self-signed certificate the app's TLS (ssl.create_default_context) trusts, through SSL_CERT_FILE."""
    pair = self_signed_cert(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(pair[0]))
    return pair


def _deliveries(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    return client.get("/api/v1/notifications/deliveries", params=params, headers=headers).json()["items"]


@pytest.mark.parametrize(
    "implicit",
    [False, pytest.param(True, marks=pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"))],
    ids=["STARTTLS", "SSL"],
)
def test_a_failed_job_is_mailed_with_text_and_html_over_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cert: tuple[Path, Path], implicit: bool
) -> None:
    with tls_smtp_server(*cert, implicit=implicit, user=SMTP_USER, password=SMTP_PASSWORD) as box:
        settings = make_settings(
            tmp_path,
            monkeypatch,
            SMTP_HOST=box.host,
            SMTP_PORT=box.port,
            SMTP_TLS=not implicit,
            SMTP_SSL=implicit,
            SMTP_USER=SMTP_USER,
            SMTP_PASSWORD=SMTP_PASSWORD,
            NOTIFY_EMAIL_ENABLED=True,
            NOTIFY_EMAIL_TO="ops@example.com, oncall@example.com",
            BASE_URL="https://vcore.example",
        )
        with TestClient(create_app(settings)) as client:
            headers = login(client, ADMIN["username"], ADMIN["password"])
            job = create(client, headers, type="command", command=f"echo '{NASTY}'; exit 2", name="mail <me>")
            wait_status(client, headers, job["id"])
            mail: Message = eventually(lambda: box.messages and box.messages[0])
            eventually(lambda: _deliveries(client, headers, status="sent"))
    assert box.logins == [(SMTP_USER, SMTP_PASSWORD)]
    assert mail["To"] == "ops@example.com, oncall@example.com"
    assert mail["Subject"] == f"[vCore] Job #{job['id']} 'mail <me>' failed"
    assert mail.get_content_type() == "multipart/alternative"
    text, html = (part.get_payload(decode=True).decode() for part in mail.get_payload())
    assert NASTY in text and "Exit code: 2" in text and f"https://vcore.example/jobs/{job['id']}" in text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;not bold" in html
    assert f'<a href="https://vcore.example/jobs/{job["id"]}">' in html


def test_telegram_gets_its_html_subset_escaped_and_a_bad_token_fails_for_good(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_telegram(TOKEN) as bot:
        settings = make_settings(
            tmp_path,
            monkeypatch,
            NOTIFY_TELEGRAM_ENABLED=True,
            TELEGRAM_API_TOKEN=TOKEN,
            TELEGRAM_CHAT_ID=-100123,
            TELEGRAM_API_URL=bot.url,
        )
        with TestClient(create_app(settings)) as client:
            headers = login(client, ADMIN["username"], ADMIN["password"])
            job = create(client, headers, type="command", command=f"echo '{NASTY}'; exit 1", name="tg & <co>")
            wait_status(client, headers, job["id"])
            eventually(lambda: bot.accepted())
            sent = eventually(lambda: _deliveries(client, headers, status="sent"))
            # A channel added in the UI or API with a wrong token: Telegram says 401, no retry.
            added = client.post(
                "/api/v1/notifications/channels",
                headers=headers,
                json={"name": "wrong-bot", "kind": "telegram", "chat_id": "-42", "secret": "999:wrong-token-xxxxxxxx"},
            )
            assert added.status_code == 201, added.text
            test = client.post("/api/v1/notifications/test", json={"channel_id": added.json()["id"]}, headers=headers)
            assert test.status_code == 202, test.text
            [failed] = eventually(lambda: _deliveries(client, headers, status="failed"))
    [message] = bot.accepted()
    body = message["body"]
    assert body["chat_id"] == -100123 and body["parse_mode"] == "HTML"
    assert body["text"].startswith(f"<b>Job #{job['id']} &#39;tg &amp; &lt;co&gt;&#39; failed</b>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;not bold&lt;/b&gt;" in body["text"]
    assert f'<a href="{settings.BASE_URL}/jobs/{job["id"]}">' in body["text"]
    assert sent[0]["channel"] == "telegram"
    assert failed["attempts"] == 1 and failed["last_error"] == "Telegram API answered 401: Unauthorized"
    assert "wrong-token" not in str(failed)


def test_the_start_message_goes_out_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_telegram(TOKEN) as bot:
        for notify_on_start in (False, True):
            settings = make_settings(
                tmp_path,
                monkeypatch,
                NOTIFY_TELEGRAM_ENABLED=True,
                TELEGRAM_API_TOKEN=TOKEN,
                TELEGRAM_CHAT_ID=7,
                TELEGRAM_API_URL=bot.url,
                NOTIFY_ON_START=notify_on_start,
            )
            with TestClient(create_app(settings)) as client:
                headers = login(client, ADMIN["username"], ADMIN["password"])
                client.post("/api/v1/notifications/test", json={"text": "ping"}, headers=headers)
                expected = 1 + 2 * notify_on_start  # the start message once, then the test, per boot
                eventually(lambda c=client, h=headers, n=expected: len(_deliveries(c, h, status="sent")) == n)
    texts = [m["body"]["text"] for m in bot.accepted()]
    assert [("started" in t, "ping" in t) for t in texts] == [(False, True), (True, False), (False, True)]


def test_a_test_with_no_channel_is_a_409(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.post("/api/v1/notifications/test", json={}, headers=admin_headers)
    assert response.status_code == 409
    assert response.json() == {"detail": "No enabled notification channel to send to"}


@pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")  # inside apprise
def test_apprise_urls_reach_their_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NOTIFY_URLS through Apprise's json:// service, pointed at a local receiver."""
    from tests.support.notify import webhook_receiver

    with webhook_receiver() as receiver:
        urls = f"json://127.0.0.1:{receiver.port}/apprise?token=apprise-url-token-123"
        settings = make_settings(tmp_path, monkeypatch, NOTIFY_URLS=urls)
        with TestClient(create_app(settings)) as client:
            headers = login(client, ADMIN["username"], ADMIN["password"])
            [channel] = client.get("/api/v1/notifications/channels", headers=headers).json()["items"]
            assert channel["name"] == "apprise" and channel["config"] == {"services": "json"}
            assert channel["secret_set"] and channel["secret_hint"] == ""
            assert (
                client.post("/api/v1/notifications/test", json={"text": "via apprise"}, headers=headers).status_code
                == 202
            )
            eventually(lambda: _deliveries(client, headers, status="sent"))
            listed = client.get("/api/v1/notifications/channels", headers=headers).text
    [request] = receiver.requests
    assert request["body"]["title"] == "[vCore] Test message from admin" and "via apprise" in request["body"]["message"]
    assert "apprise-url-token-123" not in listed


def test_a_long_log_still_makes_a_telegram_message_within_its_limit() -> None:
    """20 log lines of 300 escaped characters would pass 4096: older lines go, the HTML stays whole."""
    from tests.support.notify import _balanced_html
    from vcore_app.notify.templates import render_message
    from vcore_app.settings import Settings

    payload = {
        "title": "Job #1 'x' failed",
        "job": {
            "id": 1,
            "name": "x",
            "status": "failed",
            "attempt": 1,
            "max_retries": 0,
            "duration_seconds": 1.0,
            "exit_code": 1,
            "error": "exit code 1",
        },
        "log_tail": [f"line {n} " + "<&>" * 97 for n in range(20)],
        "url": "http://h/jobs/1",
    }
    message = render_message(delivery_id=1, event="failed", payload=payload, settings=Settings())
    assert len(message.telegram_html) <= 4096 and _balanced_html(message.telegram_html)
    assert "line 19 " in message.telegram_html and "line 0 " not in message.telegram_html
    assert "line 0 " in message.text  # mail and webhooks keep all 20
