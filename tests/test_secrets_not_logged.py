"""Secrets never reach the logs: a real server at DEBUG level goes through login, refresh, API keys,
a password reset by mail and logout; then neither the app log nor the console holds any of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dotenv import dotenv_values
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.support.apps import ADMIN, ADMIN_ENV, app_env, start_app
from tests.support.auth import bearer
from tests.support.mail import Mailbox

API = "/api/v1"
NEW_PASSWORD = "the-new-secret-password-9"


def test_no_password_token_or_key_is_logged(tmp_path: Path, smtp_server: Mailbox) -> None:
    app = start_app(
        tmp_path / "data",
        env=app_env(
            LOG_LEVEL="DEBUG",
            EMAILS_ENABLED="true",
            SMTP_HOST=smtp_server.host,
            SMTP_PORT=str(smtp_server.port),
            SMTP_TLS="false",
            SMTP_USER="",
            **ADMIN_ENV,
        ),
    )
    http = app.http
    try:
        tokens = http.post(f"{API}/login/access-token", data=ADMIN).json()
        http.post(f"{API}/login/access-token", data={"username": "admin", "password": "a-wrong-secret-guess"})
        rotated = http.post(f"{API}/login/refresh-token", json={"refresh_token": tokens["refresh_token"]}).json()
        key = http.post(f"{API}/users/me/api-keys", json={"name": "k"}, headers=bearer(rotated["access_token"])).json()
        assert http.get(f"{API}/users/me", headers={"X-API-Key": key["key"]}).status_code == 200
        # uvicorn logs WebSocket handshakes with their query, where WebSocket clients put the token
        with pytest.raises(InvalidStatus):
            connect(f"ws://127.0.0.1:{app.port}{API}/ws/no-such-socket?token={rotated['access_token']}").close()

        assert http.post(f"{API}/password-recovery/{ADMIN['email']}").status_code == 200
        mail = smtp_server.wait_for_mail(ADMIN["email"]).get_payload(decode=True).decode()
        reset_token = re.search(r"token=(\S+)", mail).group(1)
        reset = http.post(f"{API}/reset-password", json={"token": reset_token, "new_password": NEW_PASSWORD})
        assert reset.status_code == 200
        fresh = http.post(f"{API}/login/access-token", data={"username": "admin", "password": NEW_PASSWORD}).json()
        http.post(
            f"{API}/logout", json={"refresh_token": fresh["refresh_token"]}, headers=bearer(fresh["access_token"])
        )
    finally:
        assert app.stop() == 0

    logged = (app.data_dir / "logs" / "vcore.log").read_text() + app.output()
    assert "POST /api/v1/reset-password 200" in logged, "the log is on and was written"
    assert "ws/no-such-socket?token=***" in logged
    generated = dotenv_values(app.data_dir / "secrets.env").values()
    secrets = {
        ADMIN["password"],
        NEW_PASSWORD,
        "a-wrong-secret-guess",
        key["key"],
        reset_token,
        *generated,
        *tokens.values(),
        *rotated.values(),
        *fresh.values(),
    } - {"bearer"}
    leaked = [secret[:12] + "..." for secret in secrets if secret in logged]
    assert not leaked, f"secrets in the logs: {leaked}"
