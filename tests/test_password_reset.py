"""Password reset by mail, through a real SMTP server on loopback: one answer for every address,
a link that works once and not after it expires."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN
from tests.support.auth import bearer, login_tokens
from tests.support.mail import Mailbox
from vcore_app.auth.tokens import signing_key
from vcore_app.web.api.password import RECOVERY_ANSWER

API = "/api/v1"
NEW_PASSWORD = "brand-new-password-1"


def _reset_token(client: TestClient, mailbox: Mailbox, count: int = 1) -> str:
    assert client.post(f"{API}/password-recovery/{ADMIN['email']}").status_code == 200
    mail = mailbox.wait_for_mail(ADMIN["email"], count)
    body = mail.get_payload(decode=True).decode()
    link = re.search(r"https://vcore\.example/reset-password\?token=(\S+)", body)
    assert link, body
    return link.group(1)


def _reset(client: TestClient, token: str, password: str = NEW_PASSWORD) -> int:
    return client.post(f"{API}/reset-password", json={"token": token, "new_password": password}).status_code


def test_a_known_and_an_unknown_address_get_the_same_answer_and_only_one_gets_mail(
    mail_client: TestClient, smtp_server: Mailbox
) -> None:
    unknown = mail_client.post(f"{API}/password-recovery/nobody@example.com")
    known = mail_client.post(f"{API}/password-recovery/{ADMIN['email']}")
    assert unknown.status_code == known.status_code == 200
    assert unknown.json() == known.json() == {"message": RECOVERY_ANSWER}
    mail = smtp_server.wait_for_mail(ADMIN["email"])
    assert [m["To"] for m in smtp_server.messages] == [ADMIN["email"]]
    assert "reset your password" in mail["Subject"] and "vCore" in mail["From"]


def test_the_full_reset_flow_works_once_and_logs_out_old_sessions(
    mail_client: TestClient, smtp_server: Mailbox
) -> None:
    old = login_tokens(mail_client, ADMIN["username"], ADMIN["password"])
    token = _reset_token(mail_client, smtp_server)
    assert _reset(mail_client, token, "short") == 422
    assert _reset(mail_client, token) == 200
    assert _reset(mail_client, token, "another-password-2") == 400, "the link works once"
    assert mail_client.get(f"{API}/users/me", headers=bearer(old["access_token"])).status_code == 401
    assert mail_client.post(f"{API}/login/access-token", data=ADMIN).status_code == 401
    login_tokens(mail_client, ADMIN["username"], NEW_PASSWORD)


def test_a_second_link_dies_when_the_first_is_used(mail_client: TestClient, smtp_server: Mailbox) -> None:
    first, second = _reset_token(mail_client, smtp_server, 1), _reset_token(mail_client, smtp_server, 2)
    assert _reset(mail_client, second) == 200
    assert _reset(mail_client, first, "another-password-2") == 400


def _expired_reset_token(client: TestClient) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": "1",
        "iat": now - timedelta(hours=49),
        "exp": now - timedelta(hours=1),
        "type": "reset",
        "ver": 0,
        "jti": "0" * 32,
    }
    return jwt.encode(claims, signing_key(client.app.state.settings, "reset"))


@pytest.mark.parametrize(
    "make_token",
    [
        _expired_reset_token,
        lambda client: login_tokens(client, ADMIN["username"], ADMIN["password"])["access_token"],
        lambda client: "garbage",
    ],
    ids=["expired reset token", "access token", "garbage"],
)
def test_a_bad_or_expired_token_is_refused(mail_client: TestClient, make_token: Callable[[TestClient], str]) -> None:
    response = mail_client.post(
        f"{API}/reset-password", json={"token": make_token(mail_client), "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid or expired reset link; ask for a new one"}


def test_without_emails_enabled_the_answer_is_the_same(client: TestClient) -> None:
    response = client.post(f"{API}/password-recovery/{ADMIN['email']}")
    assert response.status_code == 200 and response.json() == {"message": RECOVERY_ANSWER}
