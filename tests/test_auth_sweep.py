"""The route-table sweep: every route not on the public list refuses every kind of bad credential,
and every superuser route refuses a regular user.

ACCESS classifies each non-public route. A route added later that is neither public nor in this
table fails `test_every_route_is_public_or_classified`: whoever adds it decides who may call it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.support.apps import ADMIN, make_settings
from tests.support.auth import bearer, login_tokens
from tests.test_plugin_example import EXAMPLE
from vcore_app import db
from vcore_app.app import create_app
from vcore_app.auth.apikeys import create_api_key
from vcore_app.auth.backend import SESSION_COOKIE
from vcore_app.auth.tokens import create_token, signing_key
from vcore_app.models import User
from vcore_app.plugins.manager import Plugins
from vcore_app.settings import Settings
from vcore_app.users import create_user, get_by_username, update_user
from vcore_app.web.plugin_surface import PluginRoutes
from vcore_app.web.public import is_public
from vcore_app.web.routes import routes

USER, SUPERUSER = "any user", "superuser only"
API = "/api/v1"
ACCESS: dict[tuple[str, str], str] = {
    ("POST", f"{API}/login/test-token"): USER,
    ("POST", f"{API}/logout"): USER,
    ("GET", f"{API}/users/me"): USER,
    ("PUT", f"{API}/users/me"): USER,
    ("PUT", f"{API}/users/me/password"): USER,
    ("POST", f"{API}/users/me/logout-all"): USER,
    ("GET", f"{API}/users/me/api-keys"): USER,
    ("POST", f"{API}/users/me/api-keys"): USER,
    ("DELETE", f"{API}/users/me/api-keys/{{id:id}}"): USER,
    ("GET", f"{API}/users"): SUPERUSER,
    ("POST", f"{API}/users"): SUPERUSER,
    ("GET", f"{API}/users/{{id:id}}"): SUPERUSER,  # another user's id; one's own is allowed
    ("PUT", f"{API}/users/{{id:id}}"): SUPERUSER,
    ("DELETE", f"{API}/users/{{id:id}}"): SUPERUSER,
    ("GET", f"{API}/jobs"): USER,  # a regular user sees only its own jobs (tests/test_job_api.py)
    ("POST", f"{API}/jobs"): USER,  # command jobs need a superuser
    ("GET", f"{API}/jobs/{{job_id:id}}"): USER,
    ("PUT", f"{API}/jobs/{{job_id:id}}"): USER,
    ("DELETE", f"{API}/jobs/{{job_id:id}}"): USER,
    ("PUT", f"{API}/jobs/{{job_id:id}}/status"): USER,
    ("POST", f"{API}/jobs/{{job_id:id}}/kill"): USER,
    ("POST", f"{API}/jobs/{{job_id:id}}/rerun"): USER,
    ("GET", f"{API}/jobs/{{job_id:id}}/log"): USER,
    ("POST", f"{API}/jobs/push-jobs-to-websocket"): USER,
    ("POST", f"{API}/jobs/start-consumer"): SUPERUSER,
    ("GET", f"{API}/workers"): SUPERUSER,
    ("POST", f"{API}/jobs/stop-consumer"): SUPERUSER,
    ("GET", f"{API}/job-schedulers"): SUPERUSER,
    ("POST", f"{API}/job-schedulers"): SUPERUSER,
    ("GET", f"{API}/job-schedulers/{{scheduler_id:id}}"): SUPERUSER,
    ("PUT", f"{API}/job-schedulers/{{scheduler_id:id}}"): SUPERUSER,
    ("DELETE", f"{API}/job-schedulers/{{scheduler_id:id}}"): SUPERUSER,
    ("POST", f"{API}/job-schedulers/{{scheduler_id:id}}/toggle"): SUPERUSER,
    ("GET", f"{API}/job-schedulers/{{scheduler_id:id}}/preview"): SUPERUSER,
    ("POST", f"{API}/job-schedulers/{{scheduler_id:id}}/run-now"): SUPERUSER,
    ("GET", f"{API}/job-schedulers/{{scheduler_id:id}}/jobs"): SUPERUSER,
    ("POST", f"{API}/job-schedulers/preview"): SUPERUSER,
    ("POST", f"{API}/notifications/test"): SUPERUSER,
    ("GET", f"{API}/notifications/channels"): SUPERUSER,
    ("POST", f"{API}/notifications/channels"): SUPERUSER,
    ("GET", f"{API}/notifications/channels/{{channel_id:id}}"): SUPERUSER,
    ("PUT", f"{API}/notifications/channels/{{channel_id:id}}"): SUPERUSER,
    ("DELETE", f"{API}/notifications/channels/{{channel_id:id}}"): SUPERUSER,
    ("GET", f"{API}/notifications/deliveries"): SUPERUSER,
    ("GET", "/notifications"): SUPERUSER,
    ("POST", "/notifications/channels"): SUPERUSER,
    ("POST", "/notifications/channels/{channel_id:id}/toggle"): SUPERUSER,
    ("POST", "/notifications/channels/{channel_id:id}/delete"): SUPERUSER,
    ("POST", "/notifications/channels/{channel_id:id}/test"): SUPERUSER,
    ("GET", "/"): USER,
    ("POST", "/queues/{name}/{action}"): SUPERUSER,
    ("GET", "/schedulers"): SUPERUSER,
    ("GET", "/schedulers/new"): SUPERUSER,
    ("POST", "/schedulers/new"): SUPERUSER,
    ("GET", "/schedulers/{scheduler_id:id}"): SUPERUSER,
    ("POST", "/schedulers/{scheduler_id:id}"): SUPERUSER,
    ("POST", "/schedulers/{scheduler_id:id}/toggle"): SUPERUSER,
    ("POST", "/schedulers/{scheduler_id:id}/run-now"): SUPERUSER,
    ("POST", "/schedulers/{scheduler_id:id}/delete"): SUPERUSER,
    ("GET", "/scripts"): USER,
    ("GET", "/scripts/{name}"): USER,
    ("POST", "/scripts/{name}"): USER,
    ("GET", "/jobs"): USER,  # a regular user sees only its own jobs (tests/test_job_pages.py)
    ("GET", "/jobs/new"): USER,
    ("POST", "/jobs/new"): USER,  # command jobs need a superuser
    ("GET", "/jobs/{job_id:id}"): USER,
    ("POST", "/jobs/{job_id:id}/kill"): USER,
    ("POST", "/jobs/{job_id:id}/rerun"): USER,
    ("POST", "/jobs/{job_id:id}/delete"): USER,
    ("GET", "/tools"): USER,
    ("GET", "/tools/{name}"): USER,
    ("POST", "/tools/{name}"): USER,
    ("GET", "/users"): SUPERUSER,
    ("GET", "/users/new"): SUPERUSER,
    ("POST", "/users/new"): SUPERUSER,
    ("GET", "/users/{id:id}"): SUPERUSER,
    ("POST", "/users/{id:id}"): SUPERUSER,
    ("POST", "/users/{id:id}/set"): SUPERUSER,
    ("POST", "/users/{id:id}/delete"): SUPERUSER,
    ("GET", "/profile"): USER,
    ("POST", "/profile"): USER,
    ("POST", "/profile/password"): USER,
    ("POST", "/profile/logout-everywhere"): USER,
    ("POST", "/profile/api-keys"): USER,
    ("POST", "/profile/api-keys/{id:id}/delete"): USER,
    ("GET", "/logs"): SUPERUSER,
    ("GET", "/logs/tail"): SUPERUSER,
    ("GET", f"{API}/plugins"): USER,  # tracebacks only for superusers (tests/test_plugins.py)
    ("POST", f"{API}/plugins/reload"): SUPERUSER,
    ("GET", "/plugins"): USER,
    ("GET", f"{API}/tools"): USER,  # superuser-only tools are hidden from others (tests/test_tool_api.py)
    ("POST", f"{API}/tools/{{name}}"): USER,
    ("GET", f"{API}/scripts"): USER,
    ("POST", f"{API}/scripts/{{name}}/run"): USER,
    ("POST", "/plugins/reload"): SUPERUSER,
    ("POST", f"{API}/jobs/batch"): USER,  # command jobs in it need a superuser (tests/test_job_batch.py)
    ("DELETE", f"{API}/jobs"): USER,  # bulk delete: a regular user's own jobs only (tests/test_housekeeping.py)
    ("GET", f"{API}/backups"): SUPERUSER,
    ("POST", f"{API}/backups"): SUPERUSER,
    ("GET", f"{API}/backups/{{name}}"): SUPERUSER,
    ("GET", f"{API}/audit"): SUPERUSER,
    ("GET", f"{API}/housekeeping"): SUPERUSER,
    ("POST", f"{API}/housekeeping"): SUPERUSER,
    ("GET", "/backups"): SUPERUSER,
    ("POST", "/backups"): SUPERUSER,
    ("GET", "/audit"): SUPERUSER,
    ("POST", "/jobs/delete"): USER,
    ("POST", "/housekeeping/run"): SUPERUSER,
    ("GET", f"{API}/openapi.json"): USER,  # open to anyone only with API_DOCS_PUBLIC (tests/test_api_docs.py)
    ("GET", "/docs"): USER,
    ("GET", "/redoc"): USER,
    # LLM helpers: whoever may run scripts (tests/test_llm_web.py)
    ("POST", f"{API}/jobs/{{job_id:id}}/explain"): USER,
    ("GET", f"{API}/jobs/{{job_id:id}}/explanation"): USER,
    ("POST", f"{API}/llm/complete"): USER,
    ("GET", f"{API}/llm/usage"): SUPERUSER,
    ("POST", "/jobs/{job_id:id}/explain"): USER,
    ("POST", "/tools/{name}/stream"): USER,
}
# Public to the login gate, but with a rule of its own: loopback clients, or the METRICS_TOKEN bearer
# (web/api/ops.py). The sweep's TestClient is not a loopback client ("testclient"), so every bad
# credential must get 401 there, and only the token opens it.
METRICS_TOKEN = "sweep-metrics-token-" + "m" * 24
TOKEN_ONLY = [("GET", "/metrics")]
# A WebSocket route of the test's own, so the WebSocket half of the sweep and the Origin check are
# exercised before the app has a WebSocket of its own; real ones are swept too.
PROBE = f"{API}/ws/sweep-probe"


def _endpoints() -> list[tuple[str, str]]:
    found = []
    for route in routes():
        if isinstance(route, Route):
            found += [(method, route.path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return found


def _websockets() -> list[str]:
    return [route.path for route in routes() if isinstance(route, WebSocketRoute)] + [PROBE]


PROTECTED = [(method, path) for method, path in _endpoints() if not is_public(path)]


def _plugin_endpoints() -> list[tuple[str, str]]:
    """The routes of the example plugin (examples/): plugin routes are classified as a kind, not one
    by one: every one needs an authenticated user (web/plugin_surface.py), which the sweep checks."""
    example = Plugins(plugins_dir=EXAMPLE.parent, env_name="local", quiet=True, entry_points=False)
    return [
        (method, route.path)
        for route in example.items("register_routes")
        if isinstance(route, Route)
        for method in sorted(route.methods or ())
        if method != "HEAD"
    ]


PLUGIN_ROUTES = _plugin_endpoints()


def _present(client: TestClient, given: dict[str, Any]) -> dict[str, str]:
    """Put the credential's cookies (only those) on the client; return its headers."""
    client.cookies.clear()
    client.cookies.update(given.get("cookies", {}))
    return dict(given.get("headers", {}))


def _concrete(path: str, user_id: int) -> str:
    return re.sub(r"\{[^}]+\}", str(user_id), path)


async def _probe(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"user": websocket.user.display_name, "via": websocket.user.via})
    await websocket.close()


@dataclass
class Sweep:
    client: TestClient
    settings: Settings
    admin: User
    regular: User
    regular_headers: dict[str, str]
    bad: dict[str, dict[str, Any]]  # name -> {"headers": ..., "cookies": ...}


def _claims(user: User, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "sub": str(user.id),
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "type": "access",
        "ver": user.token_version,
        "jti": "0" * 32,
        **changes,
    }


def _bad_credentials(client: TestClient, settings: Settings, admin: User) -> dict[str, dict[str, Any]]:
    engine = client.app.state.runtime.engine
    with db.session(engine) as session:
        for name in ("deleted", "deactivated"):
            create_user(session=session, username=name, email=f"{name}@example.com", password="sweep-password-1")
    deleted = login_tokens(client, "deleted", "sweep-password-1")["access_token"]
    deactivated = login_tokens(client, "deactivated", "sweep-password-1")["access_token"]
    with db.session(engine) as session:
        _, deactivated_key = create_api_key(
            session=session, user=get_by_username(session=session, username="deactivated"), name="k"
        )
        _, deleted_key = create_api_key(
            session=session, user=get_by_username(session=session, username="deleted"), name="k"
        )
        session.delete(get_by_username(session=session, username="deleted"))
        update_user(
            session=session, user=get_by_username(session=session, username="deactivated"), changes={"is_active": False}
        )

    access_key = signing_key(settings, "access")
    admin_tokens = login_tokens(client, ADMIN["username"], ADMIN["password"])
    header, _payload, signature = admin_tokens["access_token"].split(".")
    other_payload = jwt.encode(_claims(admin, sub="2"), "x" * 32).split(".")[1]

    def minted(kind: str) -> str:
        return create_token(settings=settings, kind=kind, user_id=admin.id, token_version=admin.token_version)[0]

    tokens = {
        "expired token": jwt.encode(_claims(admin, exp=datetime.now(UTC) - timedelta(seconds=5)), access_key),
        "tampered token": f"{header}.{other_payload}.{signature}",
        "alg=none token": jwt.encode(_claims(admin), None, algorithm="none"),
        "token signed with HS512 and the right key": jwt.encode(_claims(admin), access_key, algorithm="HS512"),
        "token signed with another key": jwt.encode(_claims(admin), "another-key-" + "x" * 32),
        "refresh token used as access token": admin_tokens["refresh_token"],
        "session token used as bearer token": minted("session"),
        "reset token used as bearer token": minted("reset"),
        "token of an older token version": jwt.encode(_claims(admin, ver=admin.token_version - 1), access_key),
        "deleted user's token": deleted,
        "deactivated user's token": deactivated,
        "unknown API key": "vc_" + "A" * 43,
        "deleted user's API key": deleted_key,
        "deactivated user's API key": deactivated_key,
        "garbage": "not-a-token",
    }
    bad: dict[str, dict[str, Any]] = {"no credentials": {}}
    bad.update({name: {"headers": bearer(token)} for name, token in tokens.items()})
    bad["unknown API key in X-API-Key"] = {"headers": {"X-API-Key": "vc_" + "B" * 43}}
    bad["access token in the session cookie"] = {"cookies": {SESSION_COOKIE: admin_tokens["access_token"]}}
    bad["session token signed with another key"] = {
        "cookies": {SESSION_COOKIE: jwt.encode(_claims(admin, type="session"), "another-key-" + "x" * 32)}
    }
    return bad


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sweep]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = make_settings(tmp_path_factory.mktemp("sweep"), monkeypatch, METRICS_TOKEN=METRICS_TOKEN)
        shutil.copytree(EXAMPLE, settings.plugins_dir / EXAMPLE.name, ignore=shutil.ignore_patterns("__pycache__"))
        app = create_app(settings)
        app.router.routes.append(WebSocketRoute(PROBE, _probe))
        with TestClient(app) as client:
            engine = app.state.runtime.engine
            with db.session(engine) as session:
                regular = create_user(
                    session=session, username="regular", email="regular@example.com", password="regular-password-1"
                )
            with db.session(engine, readonly=True) as session:
                admin = get_by_username(session=session, username=ADMIN["username"])
            regular_headers = bearer(login_tokens(client, "regular", "regular-password-1")["access_token"])
            yield Sweep(client, settings, admin, regular, regular_headers, _bad_credentials(client, settings, admin))


def test_every_route_is_public_or_classified() -> None:
    unclassified = [f"{method} {path}" for method, path in PROTECTED if (method, path) not in ACCESS]
    assert not unclassified, f"classify these routes in ACCESS (any user or superuser only): {unclassified}"
    stale = [f"{method} {path}" for method, path in ACCESS if (method, path) not in PROTECTED]
    assert not stale, f"ACCESS names routes that no longer exist or are public: {stale}"


def test_the_app_serves_exactly_the_route_list(settings: Settings) -> None:
    app_routes = {(type(r).__name__, r.path) for r in create_app(settings).routes}
    assert app_routes == {(type(r).__name__, r.path) for r in routes(plugin_routes=PluginRoutes())}


BAD_NAMES = [
    "no credentials",
    "expired token",
    "tampered token",
    "alg=none token",
    "token signed with HS512 and the right key",
    "token signed with another key",
    "refresh token used as access token",
    "session token used as bearer token",
    "reset token used as bearer token",
    "token of an older token version",
    "deleted user's token",
    "deactivated user's token",
    "unknown API key",
    "deleted user's API key",
    "deactivated user's API key",
    "garbage",
    "unknown API key in X-API-Key",
    "access token in the session cookie",
    "session token signed with another key",
]


@pytest.mark.parametrize("credential", BAD_NAMES)
@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
def test_a_protected_route_refuses_a_bad_credential(sweep: Sweep, method: str, path: str, credential: str) -> None:
    headers = _present(sweep.client, sweep.bad[credential])
    response = sweep.client.request(
        method, _concrete(path, sweep.admin.id), json={}, headers=headers, follow_redirects=False
    )
    if path.startswith(API):
        assert response.status_code == 401, response.text
        assert response.json() == {"detail": "Not authenticated"}
    else:  # a page sends the browser to the login form, and back here afterwards
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith("/login?next=")


def test_the_plugin_routes_swept_are_the_ones_the_app_serves(sweep: Sweep) -> None:
    served = sweep.client.app.state.plugin_surface.routes.routes
    assert PLUGIN_ROUTES and {path for _, path in PLUGIN_ROUTES} <= {getattr(route, "path", "") for route in served}


@pytest.mark.parametrize("credential", BAD_NAMES)
@pytest.mark.parametrize(("method", "path"), PLUGIN_ROUTES, ids=[f"plugin {m} {p}" for m, p in PLUGIN_ROUTES])
def test_a_plugin_route_is_authenticated_by_default(sweep: Sweep, method: str, path: str, credential: str) -> None:
    test_a_protected_route_refuses_a_bad_credential(sweep, method, path, credential)


@pytest.mark.parametrize("credential", BAD_NAMES)
@pytest.mark.parametrize("path", _websockets())
def test_a_websocket_refuses_a_bad_credential_by_closing_1008(sweep: Sweep, path: str, credential: str) -> None:
    headers = _present(sweep.client, sweep.bad[credential])
    with pytest.raises(WebSocketDisconnect) as closed, sweep.client.websocket_connect(path, headers=headers):
        pass
    assert closed.value.code == 1008


@pytest.mark.parametrize("credential", BAD_NAMES)
@pytest.mark.parametrize(("method", "path"), TOKEN_ONLY)
def test_metrics_refuse_every_bad_credential_from_another_address(
    sweep: Sweep, method: str, path: str, credential: str
) -> None:
    headers = _present(sweep.client, sweep.bad[credential])
    response = sweep.client.request(method, path, headers=headers)
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(("method", "path"), TOKEN_ONLY)
def test_metrics_open_only_with_the_metrics_token_from_another_address(sweep: Sweep, method: str, path: str) -> None:
    admin = _present(
        sweep.client,
        {"headers": bearer(login_tokens(sweep.client, ADMIN["username"], ADMIN["password"])["access_token"])},
    )
    assert sweep.client.request(method, path, headers=admin).status_code == 401  # a login is not the token
    assert sweep.client.request(method, path, headers=bearer(METRICS_TOKEN[:-1] + "x")).status_code == 401
    response = sweep.client.request(method, path, headers=bearer(METRICS_TOKEN))
    assert response.status_code == 200 and "vcore_jobs_created" in response.text


def test_token_only_routes_are_public_to_the_gate() -> None:
    assert all(is_public(path) for _method, path in TOKEN_ONLY)


def test_every_bad_credential_built_is_swept(sweep: Sweep) -> None:
    assert set(sweep.bad) == set(BAD_NAMES)


SUPERUSER_ROUTES = [(m, p) for (m, p), who in ACCESS.items() if who == SUPERUSER]


@pytest.mark.parametrize(("method", "path"), SUPERUSER_ROUTES, ids=[f"{m} {p}" for m, p in SUPERUSER_ROUTES])
def test_a_regular_user_gets_403_on_every_superuser_route(sweep: Sweep, method: str, path: str) -> None:
    headers = _present(sweep.client, {"headers": sweep.regular_headers})
    response = sweep.client.request(method, _concrete(path, sweep.admin.id), json={}, headers=headers)
    assert response.status_code == 403, response.text
    assert response.json() == {"detail": "This needs a superuser"}


def test_the_sweep_credentials_of_the_regular_user_are_valid(sweep: Sweep) -> None:
    """So the 403s above are about the role, not about a broken token."""
    me = sweep.client.get(f"{API}/users/{sweep.regular.id}", headers=sweep.regular_headers)
    assert me.status_code == 200 and me.json()["username"] == "regular"


def test_a_websocket_accepts_good_credentials(sweep: Sweep) -> None:
    admin_token = create_token(
        settings=sweep.settings, kind="access", user_id=sweep.admin.id, token_version=sweep.admin.token_version
    )[0]
    with sweep.client.websocket_connect(f"{PROBE}?token={admin_token}") as ws:
        assert ws.receive_json() == {"user": "admin", "via": "token"}


ORIGINS: list[tuple[Callable[[Sweep], dict[str, str]], bool]] = [
    (lambda s: {"origin": "http://testserver"}, True),
    (lambda s: {"origin": s.settings.BASE_URL}, True),
    (lambda s: {"origin": "https://evil.example"}, False),
    (lambda s: {}, False),
]


@pytest.mark.parametrize(("origin", "accepted"), ORIGINS, ids=["same host", "base url", "other site", "no origin"])
def test_a_cookie_websocket_is_accepted_only_from_our_own_origin(
    sweep: Sweep, origin: Callable[[Sweep], dict[str, str]], accepted: bool
) -> None:
    session_token = create_token(
        settings=sweep.settings, kind="session", user_id=sweep.admin.id, token_version=sweep.admin.token_version
    )[0]
    _present(sweep.client, {"cookies": {SESSION_COOKIE: session_token}})
    connect = sweep.client.websocket_connect(PROBE, headers=origin(sweep))
    if accepted:
        with connect as ws:
            assert ws.receive_json() == {"user": "admin", "via": "cookie"}
    else:
        with pytest.raises(WebSocketDisconnect) as closed, connect:
            pass
        assert closed.value.code == 1008
