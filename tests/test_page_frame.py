"""The page frame: bundled static files (no CDN), the accent stylesheet, HTML error pages, the dashboard."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

HTML = {"accept": "text/html"}


def test_bootstrap_and_our_assets_are_served_locally_without_login(client: TestClient) -> None:
    for path in (
        "/static/vendor/bootstrap/css/bootstrap.min.css",
        "/static/vendor/bootstrap/js/bootstrap.bundle.min.js",
        "/static/css/app.css",
        "/static/js/app.js",
        "/static/js/theme.js",
    ):
        assert client.get(path).status_code == 200, path


def test_the_dashboard_references_no_external_host(client: TestClient, admin_headers: dict[str, str]) -> None:
    page = client.get("/", headers={**admin_headers, **HTML})
    assert page.status_code == 200
    assert not re.search(r"""(src|href)=["']https?://""", page.text)
    assert "<script>" not in page.text  # CSP forbids inline scripts
    assert "Queue <code>default</code>" in page.text


def test_the_accent_setting_colours_the_theme_stylesheet(client: TestClient) -> None:
    css = client.get("/static/theme.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "--vc-accent: #0d6efd" in css.text


def test_a_missing_page_is_an_html_404_in_the_layout(client: TestClient, admin_headers: dict[str, str]) -> None:
    page = client.get("/no-such-page", headers={**admin_headers, **HTML})
    assert page.status_code == 404
    assert "Page not found" in page.text and "/static/vendor/bootstrap/css/bootstrap.min.css" in page.text


def test_the_dashboard_counts_the_last_day_of_jobs_and_lists_failures(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    from tests.support.jobs import create, wait_status

    failed = create(client, admin_headers, type="command", command="exit 3", name="breaks <b>loudly</b>")
    wait_status(client, admin_headers, failed["id"], "failed")
    page = client.get("/", headers={**admin_headers, **HTML}).text
    assert 'class="vc-bar-failed"' in page
    assert "breaks &lt;b&gt;loudly&lt;/b&gt;" in page
    assert '<span class="badge vc-badge-failed">failed</span> 1' in page


def test_a_superuser_stops_and_starts_a_queue_from_the_dashboard(
    client: TestClient, admin_headers: dict[str, str], make_user
) -> None:  # type: ignore[no-untyped-def]
    headers = {**admin_headers, **HTML}
    client.post("/queues/reserved/stop", headers=headers)
    assert client.get("/healthz").json()["queues"]["reserved"]["consuming"] is False
    assert "Queue <code>default</code>" in client.get("/", headers=headers).text
    client.post("/queues/reserved/start", headers=headers)
    assert client.get("/healthz").json()["queues"]["reserved"]["consuming"] is True
    assert client.post("/queues/reserved/stop", headers={**make_user(), **HTML}).status_code == 403


def test_the_login_page_says_how_to_create_the_first_user_while_there_is_none(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.support.apps import make_settings
    from vcore_app.app import create_app

    settings = make_settings(tmp_path, monkeypatch, FIRST_SUPERUSER_USERNAME="", FIRST_SUPERUSER_PASSWORD="")
    with TestClient(create_app(settings)) as fresh:
        assert 'id="no-user-yet"' in fresh.get("/login", headers=HTML).text


def test_the_login_page_has_no_hint_once_a_user_exists(client: TestClient) -> None:
    assert 'id="no-user-yet"' not in client.get("/login", headers=HTML).text
