"""Quick Tools: the index, a generated form, a result, and errors shown next to the fields."""

from __future__ import annotations

from starlette.testclient import TestClient

HTML = {"accept": "text/html"}


def test_the_index_lists_the_built_in_tools(client: TestClient, admin_headers: dict[str, str]) -> None:
    page = client.get("/tools", headers={**admin_headers, **HTML})
    assert page.status_code == 200
    assert 'href="/tools/cron-preview"' in page.text and 'href="/tools/text-digest"' in page.text


def test_a_tool_page_has_a_form_generated_from_its_input(client: TestClient, admin_headers: dict[str, str]) -> None:
    page = client.get("/tools/text-digest", headers={**admin_headers, **HTML}).text
    assert 'name="text"' in page and '<select class="form-select" id="f-operation"' in page
    assert '<option value="base64-encode">' in page


def test_running_a_tool_shows_its_result(client: TestClient, admin_headers: dict[str, str]) -> None:
    page = client.post(
        "/tools/text-digest", data={"text": "abc", "operation": "sha256"}, headers={**admin_headers, **HTML}
    )
    assert page.status_code == 200
    assert "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" in page.text


def test_the_cron_tool_lists_fire_times_in_a_table(client: TestClient, admin_headers: dict[str, str]) -> None:
    page = client.post(
        "/tools/cron-preview",
        data={"expression": "30 2 * * *", "timezone": "Europe/Berlin", "count": "3"},
        headers={**admin_headers, **HTML},
    )
    assert page.status_code == 200
    assert page.text.count("<tr><td>") == 3 and "02:30" in page.text


def test_bad_input_is_shown_next_to_the_field_and_the_tool_error_above_the_result(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    page = client.post(
        "/tools/cron-preview",
        data={"expression": "x", "timezone": "UTC", "count": "500"},
        headers={**admin_headers, **HTML},
    )
    assert page.status_code == 422
    assert 'data-error-for="count"' in page.text
    failed = client.post(
        "/tools/cron-preview", data={"expression": "61 * * * *", "timezone": "UTC"}, headers={**admin_headers, **HTML}
    )
    assert failed.status_code == 422 and "not a valid cron expression" in failed.text


def test_tool_output_is_escaped(client: TestClient, admin_headers: dict[str, str]) -> None:
    page = client.post(
        "/tools/text-digest",
        data={"text": "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "operation": "base64-decode"},
        headers={**admin_headers, **HTML},
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert(1)" not in page.text


def test_an_unknown_tool_is_404(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert client.get("/tools/nope", headers={**admin_headers, **HTML}).status_code == 404
