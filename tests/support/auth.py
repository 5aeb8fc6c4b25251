"""Logging in through the API, as a client of the JSON API does."""

from __future__ import annotations

from typing import Any


def login_tokens(client: Any, username: str, password: str) -> dict[str, str]:
    """Log in through the API; return the access and refresh tokens."""
    response = client.post("/api/v1/login/access-token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def login(client: Any, username: str, password: str) -> dict[str, str]:
    """Log in through the API; return the Authorization header of the access token."""
    return bearer(login_tokens(client, username, password)["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
