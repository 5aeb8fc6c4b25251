"""The job pages in a real browser: the new-job form, the live log, the live list, kill, escaping, ANSI.

Also saves the screenshots of docs/screenshots/ (jobs list and job detail, light and dark), so CI
regenerates them with the pages.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.apps import RunningApp
from tests.support.browser import save_screenshot

LIVE = 20_000  # ms: generous for a loaded CI machine; the waits end as soon as the page shows it


def create_job(page: Page, base_url: str, command: str, name: str = "") -> int:
    """Fill in /jobs/new as a person would and land on the new job's page."""
    page.goto(f"{base_url}/jobs/new")
    page.select_option("#f-type", "command")
    page.fill("#f-name", name)
    page.fill("#f-command", command)
    page.click("#job-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def badge(page: Page, job_id: int | None = None):  # type: ignore[no-untyped-def]
    if job_id is None:
        return page.locator("#job-status [data-field=status]")
    return page.locator(f'tr[data-job-id="{job_id}"] [data-field=status]')


def test_a_command_job_streams_its_lines_one_by_one_and_the_list_follows_live(page: Page, ui_app: RunningApp) -> None:
    listing = page.context.new_page()
    listing.goto(f"{ui_app.url}/jobs")
    listing.evaluate("window.vcNotReloaded = true")

    job_id = create_job(page, ui_app.url, "for i in 1 2 3; do echo line $i; sleep 1; done", name="three lines")
    expect(page.locator(".alert-success")).to_contain_text(f"Job {job_id} created.")
    log = page.locator("#job-log")
    expect(log).to_contain_text("line 1", timeout=LIVE)
    expect(badge(page)).to_have_text("running", timeout=LIVE)
    assert "line 3" not in log.inner_text()  # the lines come while the job runs, not at its end
    expect(log).to_contain_text("line 2", timeout=LIVE)
    expect(log).to_contain_text("line 3", timeout=LIVE)
    expect(badge(page)).to_have_text("done", timeout=LIVE)
    assert log.inner_text().count("line 2") == 1  # the HTTP read and the pushed lines do not overlap

    expect(badge(listing, job_id)).to_have_text("done", timeout=LIVE)  # appeared at the top, then changed
    assert listing.evaluate("window.vcNotReloaded") is True
    assert listing.locator("#jobs-table tbody tr").first.get_attribute("data-job-id") == str(job_id)
    assert page.dialogs == []


def test_killing_a_sleeping_job_from_its_page_cancels_it(page: Page, ui_app: RunningApp) -> None:
    create_job(page, ui_app.url, "sleep 60", name="sleeper")
    expect(badge(page)).to_have_text("running", timeout=LIVE)
    page.click("#job-actions button:has-text('Kill')")
    expect(badge(page)).to_have_text("cancelled", timeout=10_000)
    expect(page.locator("#job-error")).to_contain_text("killed by admin")
    expect(page.locator("#job-log")).to_contain_text("killed", timeout=LIVE)


def test_a_hostile_name_and_output_show_literally_and_run_nothing(page: Page, ui_app: RunningApp) -> None:
    name = "<img src=x onerror=alert(1)>"
    job_id = create_job(page, ui_app.url, "echo '<script>alert(2)</script>'", name=name)
    expect(badge(page)).to_have_text("done", timeout=LIVE)
    expect(page.locator("#job-log")).to_contain_text("<script>alert(2)</script>", timeout=LIVE)
    assert page.locator("#job-name").inner_text() == name
    assert name in page.title()
    assert page.locator("#main img, #job-log script").count() == 0
    page.goto(f"{ui_app.url}/jobs")
    expect(page.locator(f'tr[data-job-id="{job_id}"] .vc-job-name')).to_have_text(name)
    assert page.locator("#jobs-table img").count() == 0
    assert page.dialogs == []


def test_an_empty_command_is_refused_next_to_the_field_and_the_values_stay(page: Page, ui_app: RunningApp) -> None:
    page.goto(f"{ui_app.url}/jobs/new")
    page.select_option("#f-type", "api_post")
    expect(page.locator("#f-url")).to_be_visible()
    expect(page.locator("#f-command")).to_be_hidden()
    page.select_option("#f-type", "command")
    expect(page.locator("#f-url")).to_be_hidden()
    page.fill("#f-name", "kept name")
    page.click("#job-form button[type=submit]")
    expect(page.locator("[data-error-for=command]")).to_have_text("Field required for a command job")
    expect(page.locator("#f-command")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-name")).to_have_value("kept name")
    expect(page.locator("#f-type")).to_have_value("command")


def test_ansi_colours_become_classes_around_their_text(page: Page, ui_app: RunningApp) -> None:
    create_job(page, ui_app.url, r"printf '\033[31mred\033[0m plain\n'")
    red = page.locator("#job-log span.vc-ansi-red")
    expect(red).to_have_text("red", timeout=LIVE)
    expect(page.locator("#job-log")).to_contain_text("red plain")
    assert "\x1b" not in page.locator("#job-log").inner_text()


def test_deleting_from_the_list_asks_first_then_flashes(page: Page, ui_app: RunningApp) -> None:
    job_id = create_job(page, ui_app.url, "true", name="to delete")
    expect(badge(page)).to_have_text("done", timeout=LIVE)
    page.goto(f"{ui_app.url}/jobs")
    page.click(f"#delete-{job_id}")  # the recorded dialog is dismissed: nothing happens
    assert page.dialogs == [f"Delete job {job_id} and its log?"]
    expect(page.locator(f'tr[data-job-id="{job_id}"]')).to_have_count(1)
    page.evaluate("window.confirm = () => true")  # the person says yes this time
    page.click(f"#delete-{job_id}")
    expect(page.locator(".alert-success")).to_contain_text(f"Job {job_id} deleted.")
    expect(page.locator(f'tr[data-job-id="{job_id}"]')).to_have_count(0)


def test_a_huge_log_shows_its_tail_from_a_whole_line(page: Page, ui_app: RunningApp) -> None:
    create_job(page, ui_app.url, "seq 1 30000", name="long output")  # ~900 KB with the timestamps
    expect(badge(page)).to_have_text("done", timeout=LIVE)
    page.reload()  # read as a stored log, not as pushed lines
    lines = page.locator("#job-log .vc-log-line")
    expect(lines.last).to_contain_text("[vcore] exit code 0", timeout=LIVE)
    expect(page.locator("#log-truncated")).to_be_visible()
    texts = [re.sub(r"^\S+ ", "", text) for text in lines.all_inner_texts()]
    numbers = [int(text) for text in texts if text.isdigit()]
    assert numbers[-1] == 30000 and numbers == list(range(numbers[0], 30001))  # no cut or repeated line
    assert 5000 < len(numbers) < 12000  # about 256 KB of it
    assert texts[0] == str(numbers[0])


def test_the_log_follows_new_lines_until_the_reader_scrolls_up(page: Page, ui_app: RunningApp) -> None:
    create_job(page, ui_app.url, "seq 1 300; sleep 1; for i in 1 2 3; do echo more $i; sleep 0.5; done")
    log = page.locator("#job-log")
    at_bottom = "e => e.scrollTop + e.clientHeight >= e.scrollHeight - 8"
    expect(log).to_contain_text("300", timeout=LIVE)
    page.wait_for_function(f"({at_bottom})(document.getElementById('job-log'))")
    log.evaluate("e => { e.scrollTop = 0; }")
    expect(page.locator("#log-follow")).to_be_visible()
    expect(log).to_contain_text("more 1", timeout=LIVE)
    assert log.evaluate("e => e.scrollTop") == 0  # the reader stays where they are
    page.click("#log-follow")
    expect(page.locator("#log-follow")).to_be_hidden()
    expect(log).to_contain_text("more 3", timeout=LIVE)
    assert log.evaluate(at_bottom)


def test_the_job_pages_fit_a_phone_without_horizontal_scrolling(page: Page, ui_app: RunningApp) -> None:
    job_id = create_job(page, ui_app.url, "echo a-rather-long-line-of-output-" + "x" * 200, name="phone " + "y" * 120)
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/jobs", "/jobs/new", f"/jobs/{job_id}"):
        page.goto(f"{ui_app.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path


def test_screenshots_of_the_job_pages_in_both_themes(page: Page, ui_app: RunningApp) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    for command in ("true", "exit 3"):
        create_job(page, ui_app.url, command)
    # Still running while the pictures are taken, so they show a live log and the Kill button.
    command = (
        "printf '\\033[1;34m==>\\033[0m build started\\n'; for i in 1 2 3 4 5; do "
        "printf 'step %s \\033[32mok\\033[0m\\n' $i; sleep 0.2; done; "
        "printf '\\033[33mwarning:\\033[0m disk 81%% full\\n'; printf '\\033[31merror:\\033[0m retrying once\\n'; "
        "echo waiting for the upload; sleep 60"
    )
    job_id = create_job(page, ui_app.url, command, name="nightly build")
    for theme in ("light", "dark"):
        page.evaluate(f"localStorage.setItem('vc-theme', '{theme}')")
        page.goto(f"{ui_app.url}/jobs/{job_id}")
        expect(page.locator("#job-log")).to_contain_text("waiting for the upload", timeout=LIVE)
        expect(badge(page)).to_have_text("running")
        save_screenshot(page, f"job-detail-{theme}")
        page.goto(f"{ui_app.url}/jobs")
        expect(badge(page, job_id)).to_have_text("running")
        save_screenshot(page, f"jobs-{theme}")
    page.click(f"#kill-{job_id}")
    expect(badge(page, job_id)).to_have_text("cancelled")
    assert page.dialogs == []
