"""The page frame: bundled static files (no CDN), the accent stylesheet, HTML error pages, the dashboard."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

HTML = {"accept": "text/html"}


def test_bootstrap_and_our_assets_are_served_locally_without_login(client: TestClient) -> None:
    for path in ("/static/vendor/bootstrap/css/bootstrap.min.css", "/static/vendor/bootstrap/js/bootstrap.bundle.min.js",
                 "/static/css/app.css", "/static/js/app.js", "/static/js/theme.js"):
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
