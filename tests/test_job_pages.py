"""The job pages' handlers, without a browser: filters, paging, who sees what, the new-job form,
the actions with their flash messages, result tables and the log download."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from tests.support.apps import ADMIN
from tests.support.auth import login
from tests.support.jobs import app_client, blocker, create, wait_status
from vcore_app.errors import FieldError
from vcore_app.settings import Settings
from vcore_app.web.errors import field_messages
from vcore_app.web.pages.jobs import result_tables
from vcore_app.web.templating import duration

H = dict[str, str]
HTML = {"accept": "text/html"}


def row_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr data-job-id="(\d+)"', html)]


def page(client: TestClient, headers: H, path: str, **params: object) -> str:
    response = client.get(path, params=params, headers={**headers, **HTML})
    assert response.status_code == 200, response.text
    return response.text


def flashes(html: str) -> list[str]:
    return [
        " ".join(text.split())
        for text in re.findall(r'<div class="alert alert-\w+ alert-dismissible[^>]*>(.*?)<button', html, re.S)
    ]


def test_the_list_filters_and_pages_like_the_api(client: TestClient, admin_headers: H) -> None:
    specs = [("alpha", "low", "default"), ("beta", "high", "reserved"), ("gamma", "high", "default")]
    ids = [
        create(client, admin_headers, type="command", command="true", name=name, priority=priority, queue_name=queue)[
            "id"
        ]
        for name, priority, queue in specs
    ]
    for job_id in ids:
        wait_status(client, admin_headers, job_id, "done")
    cases = [
        ({}, ids[::-1]),
        ({"priority": "high"}, ids[:0:-1]),
        ({"queue_name": "reserved"}, [ids[1]]),
        ({"search": "gam"}, [ids[2]]),
        ({"status": "failed"}, []),
        ({"type": "script"}, []),
        ({"status": "", "queue_name": "", "search": ""}, ids[::-1]),
    ]  # the form's "any" is no filter
    for params, expected in cases:
        assert row_ids(page(client, admin_headers, "/jobs", **params)) == expected, params
    second = page(client, admin_headers, "/jobs", limit=1, offset=1, priority="high")
    assert row_ids(second) == [ids[1]] and "Showing 2–2 of 2" in second
    assert 'href="/jobs?priority=high&amp;limit=1" rel="prev"' in second  # paging keeps the filters
    assert 'rel="next"' not in second
    assert client.get("/jobs", params={"status": "nope"}, headers={**admin_headers, **HTML}).status_code == 422


def test_a_regular_user_sees_only_its_own_jobs_and_cannot_choose_a_command(
    client: TestClient, admin_headers: H, make_user: Callable[..., H]
) -> None:
    alice = make_user("alice")
    admins = create(client, admin_headers, type="command", command="true")
    own = create(client, alice, type="script", script="disk_usage", input={"path": "/nonexistent"})
    assert row_ids(page(client, alice, "/jobs")) == [own["id"]]
    assert client.get(f"/jobs/{admins['id']}", headers={**alice, **HTML}).status_code == 404
    assert client.post(f"/jobs/{admins['id']}/kill", headers={**alice, **HTML}).status_code == 404
    form = page(client, alice, "/jobs/new")
    assert 'value="command"' not in form and 'data-job-type="command"' not in form
    refused = client.post("/jobs/new", data={"type": "command", "command": "id"}, headers={**alice, **HTML})
    assert refused.status_code == 403
    assert re.search(r'data-error-for="type">Command jobs need a superuser<', refused.text)
    assert row_ids(page(client, alice, "/jobs")) == [own["id"]]


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"type": "command", "command": ""}, "command", "Field required for a command job"),
        ({"type": "command", "command": "true", "max_retries": "-1"}, "max_retries", "Enter 0 or more"),
        ({"type": "api_post", "url": "ftp://x"}, "url", "Must start with http:// or https://"),
        ({"type": "api_post", "url": "http://x", "headers": "{nope"}, "headers", "Not valid JSON"),
        ({"type": "script", "script": "disk_usage", "input-disk_usage-top": "3"}, "input-disk_usage-path", "Required"),
        ({"type": "script", "script": "no_such", "input": "{}"}, "script", "unknown script"),
        ({"type": "nope"}, "type", "Choose one of command, script or api_post"),
    ],
)
def test_a_bad_form_shows_the_error_next_to_its_field_and_keeps_the_values(
    client: TestClient, admin_headers: H, form: H, field: str, message: str
) -> None:
    response = client.post("/jobs/new", data={**form, "name": "kept <name>"}, headers={**admin_headers, **HTML})
    assert response.status_code == 422
    error = re.search(rf'data-error-for="{field}">([^<]*)<', response.text)
    assert error and message in error.group(1), response.text
    assert 'value="kept &lt;name&gt;"' in response.text


def test_every_error_of_the_form_shows_at_once(client: TestClient, admin_headers: H) -> None:
    form = {"type": "command", "command": "", "max_retries": "-1", "notify": "{nope"}
    response = client.post("/jobs/new", data=form, headers={**admin_headers, **HTML})
    assert response.status_code == 422
    shown = dict(re.findall(r'data-error-for="([a-z_]+)">([^<]*)<', response.text))
    assert shown.keys() == {"command", "max_retries", "notify"}, shown
    assert shown["command"] == "Field required for a command job"


def test_the_sections_of_other_types_are_ignored(client: TestClient, admin_headers: H) -> None:
    response = client.post(
        "/jobs/new",
        data={"type": "command", "command": "echo hi", "url": "not a url", "input": "{broken"},
        headers={**admin_headers, **HTML},
        follow_redirects=False,
    )
    assert response.status_code == 303
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    job = client.get(f"/api/v1/jobs/{job_id}", headers=admin_headers).json()
    assert job["command"] == "echo hi" and job["url"] is None and job["input"] is None


def test_creating_redirects_to_the_job_with_a_flash_shown_once(client: TestClient, admin_headers: H) -> None:
    response = client.post(
        "/jobs/new",
        data={
            "type": "script",
            "script": "disk_usage",
            "input-disk_usage-path": "/",
            "priority": "high",
            "queue_name": "reserved",
            "timeout_seconds": "30",
        },
        headers={**admin_headers, **HTML},
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    job_id = int(location.rsplit("/", 1)[1])
    job = client.get(f"/api/v1/jobs/{job_id}", headers=admin_headers).json()
    assert (job["priority"], job["queue_name"], job["timeout_seconds"], job["input"]) == (
        "high",
        "reserved",
        30,
        {"path": "/", "top": 10},
    )
    assert flashes(page(client, admin_headers, location)) == [f"Job {job_id} created."]
    assert flashes(page(client, admin_headers, location)) == []


def test_kill_rerun_and_delete_redirect_with_a_flash(client: TestClient, admin_headers: H, tmp_path: Path) -> None:
    auth = {**admin_headers, **HTML}
    busy = create(client, admin_headers, type="command", command=blocker(tmp_path / "never"))["id"]
    wait_status(client, admin_headers, busy, "running")
    refused = client.post(f"/jobs/{busy}/delete", data={"next": "/jobs?status=running"}, headers=auth)
    assert refused.url.path == "/jobs" and refused.url.query == b"status=running"
    assert flashes(refused.text) == [f"Job {busy} is running; kill it before it can be deleted"]
    assert "alert-danger alert-dismissible" in refused.text
    killed = client.post(f"/jobs/{busy}/kill", headers=auth)
    assert killed.url.path == f"/jobs/{busy}" and flashes(killed.text) == [f"Job {busy} is stopping."]
    assert wait_status(client, admin_headers, busy)["status"] == "cancelled"
    again = client.post(f"/jobs/{busy}/kill", headers=auth)
    assert flashes(again.text) == [f"Job {busy} is cancelled."]
    rerun = client.post(f"/jobs/{busy}/rerun", headers=auth, follow_redirects=False)
    new = int(rerun.headers["location"].rsplit("/", 1)[1])
    assert new != busy
    assert flashes(page(client, admin_headers, f"/jobs/{new}")) == [f"Job {new} created from job {busy}."]
    client.post(f"/jobs/{new}/kill", headers=auth)
    deleted = client.post(f"/jobs/{busy}/delete", data={"next": "https://evil.example/"}, headers=auth)
    assert deleted.url.path == "/" and flashes(deleted.text) == [f"Job {busy} deleted."]  # no open redirect
    assert client.get(f"/jobs/{busy}", headers=auth).status_code == 404


def test_a_forged_flash_cookie_is_ignored(client: TestClient, admin_headers: H) -> None:
    client.cookies.set("vc_flash", "W1sic3VjY2VzcyIsICJoaSJdXQ.0000")
    assert flashes(page(client, admin_headers, "/jobs")) == []


def test_the_job_page_shows_the_spec_the_result_as_tables_and_where_the_log_starts(
    client: TestClient, admin_headers: H, tmp_path: Path
) -> None:
    (tmp_path / "big").write_bytes(b"x" * 5000)
    (tmp_path / "small").write_bytes(b"x")
    job = create(client, admin_headers, type="script", script="disk_usage", input={"path": str(tmp_path), "top": 2})
    wait_status(client, admin_headers, job["id"], "done")
    html = page(client, admin_headers, f"/jobs/{job['id']}")
    assert "<code>disk_usage</code>" in html and 'data-log-start="0"' in html
    assert re.search(
        r'<th scope="col"><button [^>]*>name</button></th><th scope="col"><button [^>]*>bytes</button></th>', html
    )
    assert "<td>big</td><td>5000</td>" in html
    assert 'href="/api/v1/jobs/{}/log?download=1"'.format(job["id"]) in html


def test_a_huge_log_starts_at_its_tail(client: TestClient, admin_headers: H) -> None:
    job = create(client, admin_headers, type="command", command="yes 0123456789abcdef | head -c 600000")
    wait_status(client, admin_headers, job["id"], "done")
    html = page(client, admin_headers, f"/jobs/{job['id']}")
    start = int(re.search(r'data-log-start="(\d+)"', html).group(1))  # type: ignore[union-attr]
    size = len(client.get(f"/api/v1/jobs/{job['id']}/log", headers=admin_headers).content)
    assert start == size - 256 * 1024 and 'id="log-truncated"' in html


def test_the_log_downloads_as_a_file(client: TestClient, admin_headers: H) -> None:
    job = create(client, admin_headers, type="command", command="echo hello")
    wait_status(client, admin_headers, job["id"], "done")
    response = client.get(f"/api/v1/jobs/{job['id']}/log", params={"download": 1}, headers=admin_headers)
    assert response.headers["content-disposition"] == f'attachment; filename="job-{job["id"]}.log"'
    assert "hello" in response.text


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ([{"a": 1}, {"b": 2}], [("", ["a", "b"], [{"a": 1}, {"b": 2}])]),
        ({"rows": [{"x": 1}], "n": 1}, [("rows", ["x"], [{"x": 1}])]),
        ({"output": {"largest": [{"x": 1}]}}, [("output.largest", ["x"], [{"x": 1}])]),
        ({"a": {"b": {"c": {"d": [{"x": 1}]}}}}, []),  # deeper than three levels: the JSON shows it
        ([1, 2], []),
        ([], []),
        ({"exit_code": 0}, []),
        (None, []),
        ("text", []),
    ],
)
def test_lists_of_objects_in_a_result_become_tables(result: object, expected: list[object]) -> None:
    assert result_tables(result) == expected


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0.0 s"), (4.25, "4.2 s"), (185, "3 min 05 s"), (7625, "2 h 07 min"), (273600, "3 d 04 h")],
)
def test_durations_read_naturally(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_a_nested_error_is_shown_on_its_top_level_field() -> None:
    errors = [
        FieldError(("body", "input", "path"), "Field required"),
        FieldError(("body", "command"), "bad"),
        FieldError(("body",), "Body must be a JSON object"),
    ]
    assert field_messages(errors, default="type") == {
        "input": "path: Field required",
        "command": "bad",
        "type": "Body must be a JSON object",
    }


def test_the_pages_carry_no_inline_script_style_or_handler(client: TestClient, admin_headers: H) -> None:
    """The CSP (`script-src 'self'`, no inline styles) would block them in a browser anyway."""
    job = create(client, admin_headers, type="command", command="echo hi", name='" onclick="x')
    wait_status(client, admin_headers, job["id"], "done")
    for path in ("/jobs", "/jobs/new", f"/jobs/{job['id']}"):
        html = page(client, admin_headers, path)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"""\s(style|on[a-z]+)=["']""", html), path


def test_job_times_are_shown_in_the_configured_zone_with_its_name(settings: Settings) -> None:
    """TIMEZONE=Asia/Tokyo (no daylight saving: always JST, UTC+9): the list and the job page say so,
    while the machine-readable time stays UTC."""
    with app_client(settings, TIMEZONE="Asia/Tokyo") as client:
        headers = login(client, ADMIN["username"], ADMIN["password"])
        job = create(client, headers, type="command", command="true")
        wait_status(client, headers, job["id"], "done")
        created = datetime.fromisoformat(job["created_at"]).replace(tzinfo=UTC)
        shown = created.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M:%S JST")
        for path in ("/jobs", f"/jobs/{job['id']}"):
            html = page(client, headers, path)
            assert re.search(rf'<time datetime="{re.escape(created.isoformat())}">{shown}</time>', html), path
