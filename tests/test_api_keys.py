"""API keys: shown once, stored hashed, accepted as Bearer or X-API-Key, acting as their owner."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from vcore_app import db
from vcore_app.models import ApiKey

API = "/api/v1"


def _create(client: TestClient, headers: dict, **body: object) -> dict:
    response = client.post(f"{API}/users/me/api-keys", headers=headers, json={"name": "backup script", **body})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    "as_header",
    [lambda key: {"Authorization": f"Bearer {key}"}, lambda key: {"X-API-Key": key}],
    ids=["bearer", "x-api-key"],
)
def test_a_key_acts_as_its_owner(client: TestClient, make_user: Callable[..., dict], as_header: Callable) -> None:
    created = _create(client, make_user("alice"))
    assert created["key"].startswith("vc_") and created["prefix"] == created["key"][:11]
    me = client.get(f"{API}/users/me", headers=as_header(created["key"]))
    assert me.status_code == 200 and me.json()["username"] == "alice"


def test_a_key_is_shown_once_and_stored_only_as_its_sha256(client: TestClient, admin_headers: dict) -> None:
    created = _create(client, admin_headers)
    listed = client.get(f"{API}/users/me/api-keys", headers=admin_headers).json()["items"]
    assert [item["name"] for item in listed] == ["backup script"]
    assert created["key"] not in client.get(f"{API}/users/me/api-keys", headers=admin_headers).text
    assert "key" not in listed[0] and "key_hash" not in listed[0]
    with db.session(client.app.state.runtime.engine, readonly=True) as session:
        row = session.exec(select(ApiKey)).one()
    assert row.key_hash == hashlib.sha256(created["key"].encode()).hexdigest()


def test_using_a_key_records_when_it_was_last_used(client: TestClient, admin_headers: dict) -> None:
    created = _create(client, admin_headers)
    assert created["last_used_at"] is None
    client.get(f"{API}/users/me", headers={"X-API-Key": created["key"]})
    listed = client.get(f"{API}/users/me/api-keys", headers=admin_headers).json()["items"]
    assert listed[0]["last_used_at"] is not None


def test_a_deleted_key_stops_working_and_others_keys_cannot_be_deleted(
    client: TestClient, admin_headers: dict, make_user: Callable[..., dict]
) -> None:
    created = _create(client, admin_headers)
    alice = make_user("alice")
    assert client.delete(f"{API}/users/me/api-keys/{created['id']}", headers=alice).status_code == 404
    assert client.get(f"{API}/users/me", headers={"X-API-Key": created["key"]}).status_code == 200
    assert client.delete(f"{API}/users/me/api-keys/{created['id']}", headers=admin_headers).status_code == 200
    assert client.get(f"{API}/users/me", headers={"X-API-Key": created["key"]}).status_code == 401


def test_an_expired_key_is_refused_and_an_expiry_in_the_past_is_a_422(client: TestClient, admin_headers: dict) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=2)
    created = _create(client, admin_headers, expires_at=soon.isoformat())
    assert client.get(f"{API}/users/me", headers={"X-API-Key": created["key"]}).status_code == 200
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.05)  # the wall clock is the subject
    # refused from its expiry on, although it was just used (auth/cache.py never keeps it longer)
    assert client.get(f"{API}/users/me", headers={"X-API-Key": created["key"]}).status_code == 401
    past = client.post(
        f"{API}/users/me/api-keys", headers=admin_headers, json={"name": "x", "expires_at": "2001-01-01T00:00:00"}
    )
    assert past.status_code == 422 and past.json()["detail"][0]["loc"] == ["body", "expires_at"]
