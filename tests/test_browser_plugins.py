"""Plugins in a real browser: the Plugins page (errors, tracebacks, reload), a Quick Tool page, and a
script's live progress bar with its sortable table and chart (the example plugin of examples/)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.apps import ADMIN_ENV, RunningApp, app_env, start_app
from tests.test_plugin_example import install_example

LIVE = 20_000  # ms


@pytest.fixture(scope="module")
def ui_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """A real server whose data folder holds the example plugin and a broken one."""
    data = tmp_path_factory.mktemp("ui-plugins") / "data"
    install_example(data)
    (data / "plugins" / "broken.py").write_text("raise RuntimeError('this plugin is broken on purpose')\n")
    app = start_app(
        data,
        env=app_env(
            **ADMIN_ENV,
            WORKERS_DEFAULT="2",
        ),
    )
    yield app
    app.stop()


def test_the_plugins_page_lists_each_plugin_with_its_error_and_reloads(page: Page, ui_app: RunningApp) -> None:
    page.click("nav >> text=Plugins")
    expect(page).to_have_url(f"{ui_app.url}/plugins")
    expect(page.locator('tr[data-plugin="vcore_example"]')).to_contain_text("loaded")
    broken = page.locator('tr[data-plugin="broken"]')
    expect(broken).to_contain_text("RuntimeError: this plugin is broken on purpose")
    expect(broken.locator(".vc-plugin-traceback")).to_be_hidden()
    broken.locator("summary").click()
    expect(broken.locator(".vc-plugin-traceback")).to_contain_text("Traceback (most recent call last)")

    (ui_app.data_dir / "plugins" / "broken.py").write_text("VALUE = 1\n")
    page.click("#reload-plugins")
    expect(page.locator(".alert-success")).to_contain_text("Reloaded 2 plugins from the plugins folder.")
    expect(page.locator('tr[data-plugin="broken"]')).to_contain_text("loaded")


def test_a_plugin_quick_tool_page_shows_its_own_result_template(page: Page, ui_app: RunningApp) -> None:
    page.click("nav >> text=Quick Tools")
    page.click("text=Word count")
    page.fill("#f-text", "one two three\nfour")
    page.click(".vc-quick-tool-form button[type=submit]")
    expect(page.locator("#word-count-result")).to_have_text("4 words on 2 lines")
    page.fill("#f-text", "   ")
    page.click(".vc-quick-tool-form button[type=submit]")
    expect(page.locator("#qt-error")).to_contain_text("There is nothing to count.")


def test_the_html_sanitizer_shows_before_and_after(page: Page, ui_app: RunningApp) -> None:
    page.goto(f"{ui_app.url}/tools/html-sanitize")
    page.fill("#f-html", '<a href="javascript:alert(1)" onclick="x()">hi</a><script>alert(2)</script>')
    page.click(".vc-quick-tool-form button[type=submit]")
    expect(page.locator("#sanitize-before")).to_contain_text("<script>alert(2)</script>")
    expect(page.locator("#sanitize-after")).to_have_text('<a rel="noopener noreferrer">hi</a>')
    expect(page.locator("#sanitize-verdict")).to_contain_text("changed")


def test_a_script_shows_live_progress_then_a_sortable_table_and_a_chart(page: Page, ui_app: RunningApp) -> None:
    page.goto(f"{ui_app.url}/scripts/example-squares")
    page.fill("#f-n", "6")
    page.fill("#f-pause", "0.7")
    page.click("#script-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    bar = page.locator("#job-progress-bar")
    expect(page.locator("#job-progress")).to_be_visible(timeout=LIVE)
    expect(page.locator("#job-progress-message")).to_contain_text(re.compile(r"row [1-5] of 6"), timeout=LIVE)
    assert int(float(bar.get_attribute("aria-valuenow") or "0")) < 100  # seen while it runs, not only at the end
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=LIVE)
    expect(page.locator("#job-progress-percent")).to_have_text("100 %")
    assert "##vcore-progress" not in page.locator("#job-log").inner_text()

    table = page.locator("#job-result table.vc-sortable")
    expect(table.locator("tbody tr")).to_have_count(6, timeout=LIVE)
    expect(page.locator("#job-chart polyline")).to_have_count(1)
    first_square = table.locator("tbody tr:first-child td:nth-child(2)")
    expect(first_square).to_have_text("1")
    table.locator("th button", has_text="square").click()
    expect(first_square).to_have_text("1")
    table.locator("th button", has_text="square").click()
    expect(first_square).to_have_text("36")
