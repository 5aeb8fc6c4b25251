"""Exposure against a real server: the bound addresses are named, plain HTTP on the network is warned
about, TLS is served directly with HSTS and a Secure cookie, forwarded headers are trusted only from
FORWARDED_ALLOW_IPS, api_post cannot reach denied networks, and a 500 has the security headers."""

from __future__ import annotations

import ipaddress
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.apps import ADMIN, ADMIN_ENV, app_env, free_port, make_settings, start_app
from tests.support.auth import login
from tests.support.jobs import create, http_server, url_of, wait_status
from tests.support.tls import self_signed_cert
from tests.support.waiting import wait_for
from tests.test_security_headers import EXPECTED
from vcore_app import outbound
from vcore_app.app import create_app

PLAIN_HTTP_WARNING = "over plain HTTP"


def test_a_wildcard_bind_names_the_real_addresses_and_warns_once_about_plain_http(tmp_path: Path) -> None:
    app = start_app(tmp_path / "data", "--host", "0.0.0.0")
    try:
        line = wait_for(lambda: next((line for line in app.output().splitlines() if "listening on" in line), None))
        assert f"bound to 0.0.0.0 port {app.port}: http://127.0.0.1:{app.port}" in line
        output = app.output()
        assert output.count(PLAIN_HTTP_WARNING) == 1
        assert "reverse proxy with TLS (packaging/README.md" in output
    finally:
        app.stop()


def test_a_loopback_bind_gets_no_warning(tmp_path: Path) -> None:
    app = start_app(tmp_path / "data")
    try:
        wait_for(lambda: "listening on" in app.output())
        assert f"bound to 127.0.0.1 port {app.port}: http://127.0.0.1:{app.port}" in app.output()
        assert PLAIN_HTTP_WARNING not in app.output()
    finally:
        app.stop()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path)


def test_tls_files_serve_https_with_hsts_and_a_secure_session_cookie(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    app = start_app(
        tmp_path / "data",
        "--host",
        "0.0.0.0",
        wait=False,
        env=app_env(TLS_CERT_FILE=str(cert), TLS_KEY_FILE=str(key), **ADMIN_ENV),
    )
    base = f"https://127.0.0.1:{app.port}"
    try:
        with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=cert), timeout=10) as client:

            def healthy() -> bool:
                assert app.proc.poll() is None, app.output()
                try:
                    return client.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(healthy, 30)
            health = client.get("/healthz")
            assert health.headers["strict-transport-security"] == "max-age=31536000"
            logged_in = client.post("/login", data={"username": ADMIN["username"], "password": ADMIN["password"]})
            assert logged_in.status_code == 303
            session_cookie = next(
                v for k, v in logged_in.headers.multi_items() if k == "set-cookie" and v.startswith("vcore_session=")
            )
            assert "; secure" in session_cookie.lower()
        with pytest.raises(httpx.HTTPError):  # plain HTTP is not served on that port
            httpx.get(f"http://127.0.0.1:{app.port}/healthz", timeout=5)
        assert f"listening on {base}" in app.output()
        assert PLAIN_HTTP_WARNING not in app.output()  # reachable from the network, but encrypted
    finally:
        app.stop()


def test_a_key_without_its_certificate_is_a_one_line_error(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    result = subprocess.run(
        [*start_command(), "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        env=app_env(TLS_KEY_FILE=str(certificate[1])),
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: TLS_KEY_FILE='{certificate[1]}': set both TLS_CERT_FILE and TLS_KEY_FILE, or neither"
    )


def start_command() -> list[str]:
    return [sys.executable, "-m", "vcore_app"]


def failed_logins(url: str, forwarded_for: str, count: int) -> None:
    for _ in range(count):
        answer = httpx.post(
            f"{url}/api/v1/login/access-token",
            headers={"x-forwarded-for": forwarded_for},
            data={"username": ADMIN["username"], "password": "wrong"},
        )
        assert answer.status_code == 401


def log_in_as(url: str, forwarded_for: str) -> int:
    return httpx.post(
        f"{url}/api/v1/login/access-token",
        headers={"x-forwarded-for": forwarded_for},
        data={"username": ADMIN["username"], "password": ADMIN["password"]},
    ).status_code


def test_forwarded_headers_are_ignored_unless_the_proxy_is_trusted(tmp_path: Path) -> None:
    """A local process cannot pick the address the login throttle sees by sending X-Forwarded-For."""
    app = start_app(tmp_path / "data", env=app_env(**ADMIN_ENV))
    try:
        failed_logins(app.url, "10.0.0.1", 5)
        assert log_in_as(app.url, "10.0.0.2") == 429  # same real address: locked
    finally:
        app.stop()
    trusted = start_app(tmp_path / "trusted", env=app_env(FORWARDED_ALLOW_IPS="127.0.0.1", **ADMIN_ENV))
    try:
        failed_logins(trusted.url, "10.0.0.1", 5)
        assert log_in_as(trusted.url, "10.0.0.1") == 429
        assert log_in_as(trusted.url, "10.0.0.2") == 200  # the proxy says it is another client
    finally:
        trusted.stop()


def test_api_post_refuses_cloud_metadata_and_denied_names_for_good(tmp_path: Path) -> None:
    with http_server() as server:
        app = start_app(tmp_path / "data", env=app_env(**ADMIN_ENV))  # the default deny list
        try:
            auth = login(app.http, ADMIN["username"], ADMIN["password"])
            metadata = create(
                app.http, auth, type="api_post", url="http://169.254.169.254/latest/meta-data/", max_retries=3
            )
            failed = wait_status(app.http, auth, metadata["id"])
            assert failed["status"] == "failed" and failed["attempt"] == 1  # permanent: not retried
            assert "169.254.169.254 is in 169.254.0.0/16, which API_POST_DENY_NETWORKS denies" in failed["error"]
            allowed = create(app.http, auth, type="api_post", url=url_of(server, "/hook"), body={"n": 1})
            assert wait_status(app.http, auth, allowed["id"])["status"] == "done"  # the homelab stays reachable
        finally:
            app.stop()
    assert [request["path"] for request in server.requests] == ["/hook"]  # type: ignore[attr-defined]


class _Redirect(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.server.target)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def redirect_to_denied() -> Iterator[tuple[str, list[str]]]:
    """A server on 127.0.0.1 redirecting to one on 127.0.0.2 (a denied network in the test), and
    what the denied one received."""
    received: list[str] = []

    class Denied(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    denied = ThreadingHTTPServer(("127.0.0.2", 0), Denied)
    first = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    first.target = f"http://127.0.0.2:{denied.server_address[1]}/secret"  # type: ignore[attr-defined]
    for server in (denied, first):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{first.server_address[1]}/start", received
    for server in (denied, first):
        server.shutdown()
        server.server_close()


def test_every_redirect_is_checked_and_names_are_checked_by_what_they_resolve_to(
    redirect_to_denied: tuple[str, list[str]],
) -> None:
    start, received = redirect_to_denied
    deny = [ipaddress.ip_network("127.0.0.2/32")]
    with (
        outbound.client(deny, setting="TEST_DENY", follow_redirects=True, timeout=5) as client,
        pytest.raises(
            httpx.ConnectError, match=r"127\.0\.0\.2 is in 127\.0\.0\.2/32, which TEST_DENY denies"
        ) as caught,
    ):
        client.get(start)  # `localhost` is allowed; where it redirects is not
    assert outbound.refused(caught.value) and received == []
    name_denied = [ipaddress.ip_network("127.0.0.0/8")]
    with (
        outbound.client(name_denied, setting="TEST_DENY", timeout=5) as client,
        pytest.raises(httpx.ConnectError, match=r"localhost \(127.0.0.1\) is in 127.0.0.0/8"),
    ):
        client.get(start)


async def _boom(request: Request) -> Response:
    raise RuntimeError("a bug")


def test_a_500_carries_the_security_headers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(make_settings(tmp_path, monkeypatch))
    app.router.routes.append(Route("/api/v1/boom", _boom))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started)
        url = f"http://127.0.0.1:{port}"
        auth = login(httpx.Client(base_url=url), ADMIN["username"], ADMIN["password"])
        for accept in ("application/json", "text/html"):
            response = httpx.get(f"{url}/api/v1/boom", headers={**auth, "accept": accept})
            assert response.status_code == 500
            assert {name: response.headers.get(name) for name in EXPECTED} == EXPECTED
    finally:
        server.should_exit = True
        thread.join(10)
