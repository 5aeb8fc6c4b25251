"""The job editor's fields and the spec they make, both ways: what a person types is what is saved,
with nothing added, and a saved spec shows in the fields as it was typed (web/job_form.py)."""

from __future__ import annotations

from typing import Any

import pytest

from vcore_app.scripts.registry import ScriptRegistry
from vcore_app.web.job_form import editor_values, spec_input

SCRIPTS = ScriptRegistry()  # the built-in scripts


@pytest.mark.parametrize(
    ("posted", "spec"),
    [
        ({"type": "command", "command": "echo \"hi 'you'\""}, {"type": "command", "command": "echo \"hi 'you'\""}),
        (  # fields at their default are left out; numbers stay as typed
            {"type": "command", "command": "true", "priority": "normal", "max_retries": "0", "timeout_seconds": "2.5"},
            {"type": "command", "timeout_seconds": 2.5, "command": "true"},
        ),
        (  # a browser's CR LF line breaks are the LF the person typed; the spaces stay
            {"type": "command", "command": "  echo a\r\necho b", "env": "A=1\r\n\r\nB = x=y"},
            {"type": "command", "command": "  echo a\necho b", "env": {"A": "1", "B": " x=y"}},
        ),
        (  # the fields of another type are not read
            {"type": "api_post", "url": "https://example.com", "command": "ignored", "headers": '{"X-A": "1"}'},
            {"type": "api_post", "url": "https://example.com", "headers": {"X-A": "1"}},
        ),
        (  # a script's input from its form: the default (top 10) left out, a changed one kept
            {"type": "script", "script": "disk_usage", "input-disk_usage-path": "/", "input-disk_usage-top": "10"},
            {"type": "script", "script": "disk_usage", "input": {"path": "/"}},
        ),
        (
            {"type": "script", "script": "disk_usage", "input-disk_usage-path": "/", "input-disk_usage-top": "3"},
            {"type": "script", "script": "disk_usage", "input": {"path": "/", "top": 3}},
        ),
        (  # the JSON view, edited last, is what is saved, as typed
            {"type": "command", "command": "ignored", "source": "json", "json": '{"command": "x", "type": "command"}'},
            {"command": "x", "type": "command"},
        ),
    ],
)
def test_the_fields_make_the_spec_that_was_typed(posted: dict[str, str], spec: dict[str, Any]) -> None:
    assert spec_input(posted, SCRIPTS) == (spec, {})


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"type": "api_post", "url": "https://x", "headers": "{nope"}, "headers", "Not valid JSON"),
        ({"type": "command", "command": "x", "env": "NOEQUALS"}, "env", "'NOEQUALS' is not NAME=value"),
        ({"source": "json", "json": "[1]"}, "json", "Must be a JSON object"),
    ],
)
def test_a_field_that_cannot_be_read_says_why(posted: dict[str, str], field: str, message: str) -> None:
    _, errors = spec_input({f"job_{key}": value for key, value in posted.items()}, SCRIPTS, "job_")
    assert message in errors[f"job_{field}"]


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "command", "command": "echo \"hi 'you'\"", "max_retries": 2, "env": {"A": "1"}},
        {"type": "script", "script": "disk_usage", "input": {"path": "/", "top": 3}},
        {"type": "api_post", "url": "https://example.com", "body": {"b": [1, 2]}, "headers": {"X-A": "1"}},
    ],
)
def test_a_saved_spec_shows_in_the_fields_and_saves_again_unchanged(spec: dict[str, Any]) -> None:
    values = editor_values(spec, SCRIPTS)
    assert values["source"] == "editor"
    again, errors = spec_input(values, SCRIPTS)
    assert errors == {} and again == spec


def test_a_spec_the_fields_cannot_hold_leaves_the_json_in_charge() -> None:
    spec = {"type": "command", "command": "true", "meta": {"team": "ops"}}
    values = editor_values(spec, SCRIPTS)
    assert values["source"] == "json"
    assert spec_input(values, SCRIPTS) == (spec, {})
