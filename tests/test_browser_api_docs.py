"""Swagger UI at /docs and ReDoc at /redoc in Chromium with the network unplugged: every request the
pages make stays on the app's own address; "Authorize" logs in with the password flow and "Try it out"
runs GET /api/v1/jobs with the token it got."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.support.apps import ADMIN, RunningApp


def unplugged(page: Any, app: RunningApp) -> list[str]:
    """Refuse every request to another host, as a machine without a network would; return them."""
    elsewhere: list[str] = []
    own = urlsplit(app.url).netloc

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if urlsplit(url).netloc == own or url.startswith(("data:", "blob:")):
            request_route.continue_()
        else:
            elsewhere.append(url)
            request_route.abort()

    page.route("**/*", route)
    return elsewhere


def test_swagger_ui_authorizes_with_the_password_flow_and_runs_a_call(page: Any, ui_app: RunningApp) -> None:
    elsewhere = unplugged(page, ui_app)
    sent: list[dict[str, str]] = []
    page.on(
        "request",
        lambda request: sent.append(request.headers) if urlsplit(request.url).path == "/api/v1/jobs" else None,
    )
    page.goto(f"{ui_app.url}/docs")
    page.click("button.authorize")
    dialog = page.locator(".auth-container", has_text="OAuth2Password")
    dialog.locator("#oauth_username").fill(ADMIN["username"])
    dialog.locator("#oauth_password").fill(ADMIN["password"])
    dialog.locator("button.authorize").click()
    dialog.locator("button", has_text="Logout").wait_for()  # Swagger's sign that it holds a token
    page.click(".modal-ux button.close-modal")
    operation = page.locator("#operations-jobs-list_jobs")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert '"items"' in operation.locator(".live-responses-table .highlight-code").first.inner_text()
    assert any(headers.get("authorization", "").startswith("Bearer ") for headers in sent)
    assert elsewhere == []


def test_redoc_renders_the_document_offline(page: Any, ui_app: RunningApp) -> None:
    elsewhere = unplugged(page, ui_app)
    page.goto(f"{ui_app.url}/redoc")
    page.get_by_role("heading", name="List jobs (a regular user sees its own)").wait_for()
    assert "Create a job" in page.inner_text("body")
    assert elsewhere == []


def test_the_docs_link_is_in_a_superusers_navigation(page: Any, ui_app: RunningApp) -> None:
    page.goto(f"{ui_app.url}/")
    page.click("nav a[href='/docs']")
    page.wait_for_url(f"{ui_app.url}/docs")
