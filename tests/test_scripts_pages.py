"""Script pages: the list, a form generated from the input model, and a run that becomes a job."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from vcore_app.web.forms import field_label

HTML = {"accept": "text/html"}


def test_the_scripts_page_lists_the_built_ins(client: TestClient, admin_headers: dict[str, str]) -> None:
    page = client.get("/scripts", headers={**admin_headers, **HTML})
    assert 'href="/scripts/disk_usage"' in page.text and 'href="/scripts/http_check"' in page.text


def test_the_form_has_the_input_fields_with_required_marks_and_defaults(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    page = client.get("/scripts/disk_usage", headers={**admin_headers, **HTML}).text
    assert 'name="path"' in page and 'title="required"' in page
    assert 'name="top"' in page and 'value="10"' in page


def test_the_labels_are_the_schemas_titles_or_the_names_in_words(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    page = client.get("/scripts/http_check", headers={**admin_headers, **HTML}).text
    labels = re.findall(r'<label class="form-label" for="f-[a-z_]+">([^<]+)<', page)
    assert [label.strip() for label in labels][:3] == ["URL", "Expected status", "Timeout (seconds)"]


@pytest.mark.parametrize(
    ("name", "prop", "label"),
    [
        ("url", {"title": "Url"}, "URL"),
        ("expect_status", {"title": "Expect Status"}, "Expect status"),
        ("api_key_id", {"title": "Api Key Id"}, "API key ID"),
        ("top", {"title": "Largest entries"}, "Largest entries"),
        ("path", {}, "Path"),
    ],
)
def test_a_label_without_a_title_of_its_own_reads_as_words(name: str, prop: dict[str, str], label: str) -> None:
    assert field_label(name, prop) == label


def test_running_a_script_creates_a_job_and_redirects_to_it(client: TestClient, make_user: Any, tmp_path) -> None:  # type: ignore[no-untyped-def]
    headers = make_user()  # a regular user may run scripts
    response = client.post(
        "/scripts/disk_usage",
        data={"path": str(tmp_path), "top": "3", "priority": "high"},
        headers={**headers, **HTML},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/jobs/")
    job = client.get(f"/api/v1{response.headers['location']}", headers=headers).json()
    assert job["script"] == "disk_usage" and job["input"] == {"path": str(tmp_path), "top": 3}
    assert job["priority"] == "high"


def test_bad_input_is_shown_next_to_the_field(client: TestClient, admin_headers: dict[str, str]) -> None:
    page = client.post("/scripts/disk_usage", data={"path": "/", "top": "0"}, headers={**admin_headers, **HTML})
    assert page.status_code == 422
    assert 'data-error-for="top"' in page.text


def test_an_unknown_script_is_404(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert client.get("/scripts/nope", headers={**admin_headers, **HTML}).status_code == 404
