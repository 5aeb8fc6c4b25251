"""/forgot-password and /reset-password: one answer for every address, mail through a real SMTP
server, a link that works once, and a flash on the login page afterwards."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN
from tests.support.mail import Mailbox
from tests.support.pages import HTML, field_error, log_in_browser
from vcore_app.auth.recovery import INVALID_LINK, RECOVERY_ANSWER

NEW_PASSWORD = "brand-new-password-1"


def _link_token(client: TestClient, mailbox: Mailbox) -> str:
    assert client.post("/forgot-password", data={"email": ADMIN["email"]}, headers=HTML).status_code == 200
    body = mailbox.wait_for_mail(ADMIN["email"]).get_payload(decode=True).decode()
    return re.search(r"https://vcore\.example/reset-password\?token=(\S+)", body).group(1)


def test_without_mail_the_page_says_to_ask_an_admin_or_use_the_cli(client: TestClient) -> None:
    for page in (
        client.get("/forgot-password", headers=HTML),
        client.post("/forgot-password", data={"email": ADMIN["email"]}, headers=HTML),
    ):
        assert page.status_code == 200
        assert 'id="mail-off"' in page.text and "vcore-app users set-password" in page.text


def test_a_known_and_an_unknown_address_get_the_same_page_and_only_one_gets_mail(
    mail_client: TestClient, smtp_server: Mailbox
) -> None:
    unknown = mail_client.post("/forgot-password", data={"email": "nobody@example.com"}, headers=HTML)
    known = mail_client.post("/forgot-password", data={"email": ADMIN["email"]}, headers=HTML)
    assert unknown.status_code == known.status_code == 200
    assert unknown.text == known.text and RECOVERY_ANSWER in known.text
    smtp_server.wait_for_mail(ADMIN["email"])
    assert [m["To"] for m in smtp_server.messages] == [ADMIN["email"]]


def test_a_malformed_address_is_an_error_next_to_the_field(mail_client: TestClient) -> None:
    page = mail_client.post("/forgot-password", data={"email": "not an address"}, headers=HTML)
    assert page.status_code == 422 and "Enter an e-mail address" in field_error(page.text, "email")


def test_the_reset_link_sets_the_password_once_and_the_login_page_says_so(
    mail_client: TestClient, smtp_server: Mailbox
) -> None:
    token = _link_token(mail_client, smtp_server)
    form = mail_client.get("/reset-password", params={"token": token}, headers=HTML)
    assert form.status_code == 200 and 'name="password_confirm"' in form.text

    differ = mail_client.post(
        "/reset-password",
        data={"token": token, "password": NEW_PASSWORD, "password_confirm": "something-else-1"},
        headers=HTML,
    )
    assert differ.status_code == 422 and field_error(differ.text, "password_confirm") == "The two passwords differ"
    short = mail_client.post(
        "/reset-password", data={"token": token, "password": "short", "password_confirm": "short"}, headers=HTML
    )
    assert short.status_code == 422 and field_error(short.text, "password")

    done = mail_client.post(
        "/reset-password",
        data={"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert "Password changed; log in with the new one." in mail_client.get("/login", headers=HTML).text
    log_in_browser(TestClient(mail_client.app), ADMIN["username"], NEW_PASSWORD)

    again = mail_client.get("/reset-password", params={"token": token}, headers=HTML)
    assert again.status_code == 400 and INVALID_LINK in again.text and 'name="password"' not in again.text
    reused = mail_client.post(
        "/reset-password",
        data={"token": token, "password": "another-password-2", "password_confirm": "another-password-2"},
        headers=HTML,
    )
    assert reused.status_code == 400 and INVALID_LINK in reused.text


@pytest.mark.parametrize("token", ["", "garbage"])
def test_a_bad_link_says_so_and_offers_a_new_one(client: TestClient, token: str) -> None:
    page = client.get("/reset-password", params={"token": token}, headers=HTML)
    assert page.status_code == 400 and INVALID_LINK in page.text and 'href="/forgot-password"' in page.text
