"""The job editor (assets/templates/jobs/_editor.html): one set of fields for "what runs and how",
used by the new-job form and by the scheduler form for the job a scheduler creates.

Both directions live here: posted fields -> a job spec (`spec_input`), and a stored spec -> the
fields' text (`editor_values`). The editor also has an advanced view, the spec as JSON; job_editor.js
keeps the two in sync and records in `<prefix>source` which one the person edited last: that one is
saved. A stored spec the fields cannot hold whole (a `meta` key) starts with the JSON in charge.
Without JavaScript the JSON view is read-only, so what is saved is what the page shows in charge.

A spec made from the fields holds only what the person filled in and changed from the form's
defaults: saved and shown again, it reads as they typed it, with no defaults added.
"""

from __future__ import annotations

import json
from typing import Any

from vcore_app.models import JobPriority, JobType

# The fields shared by every type, and per type the ones of its section. Fields of the other
# sections are ignored, so switching the type never leaves stale values in the spec.
COMMON_FIELDS = (
    "name",
    "priority",
    "queue_name",
    "max_retries",
    "retry_delay_seconds",
    "timeout_seconds",
    "notify",  # issue 14
)
SECTION_FIELDS: dict[JobType, tuple[str, ...]] = {
    JobType.COMMAND: ("command", "cwd", "env"),
    JobType.SCRIPT: ("script", "input"),
    JobType.API_POST: ("url", "headers", "body"),
}
JSON_FIELDS = frozenset({"input", "headers", "body", "notify"})
NUMBER_FIELDS = frozenset({"max_retries", "retry_delay_seconds", "timeout_seconds"})
# What the fields show before anything is typed. A field left at its default is not put in the
# spec: the job gets the same value from JobSpec's own default.
DEFAULTS: dict[str, Any] = {
    "priority": str(JobPriority.NORMAL),
    "queue_name": "default",
    "max_retries": 0,
    "retry_delay_seconds": 0,
}
EDITOR_FIELDS = frozenset({"type", *COMMON_FIELDS, *(name for names in SECTION_FIELDS.values() for name in names)})


def parse_env(text: str) -> dict[str, str]:
    """`NAME=value` lines (blank lines skipped) -> a mapping; ValueError naming a line without `=`."""
    env: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        if not equals:
            raise ValueError(f"{line.strip()!r} is not NAME=value")
        env[name.strip()] = value
    return env


def _number(raw: str) -> Any:
    """The number as typed (3 stays 3, 2.5 stays 2.5); text that is none is left for JobSpec to refuse."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, int | float) and not isinstance(value, bool) else raw


def _field_value(name: str, raw: str) -> Any:
    if name in JSON_FIELDS:
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"Not valid JSON: {exc}") from None
    if name == "env":
        return parse_env(raw)
    if name in NUMBER_FIELDS:
        return _number(raw)
    return raw


def spec_input(posted: dict[str, str], prefix: str = "") -> tuple[dict[str, Any], dict[str, str]]:
    """The editor's posted fields -> JobSpec input, and the errors of fields that could not be read
    (keyed by the posted field's name).

    From the JSON view when the person edited it last, else from the fields: empty fields and
    fields at their default are left out, so a missing command reads "Field required for a command
    job" and a saved spec holds only what was typed."""
    if posted.get(f"{prefix}source") == "json":
        try:
            data = json.loads(posted.get(f"{prefix}json", ""))
        except ValueError as exc:
            return {}, {f"{prefix}json": f"Not valid JSON: {exc}"}
        if not isinstance(data, dict):
            return {}, {f"{prefix}json": "Must be a JSON object, {...}"}
        return data, {}
    kind = posted.get(f"{prefix}type", "")
    try:
        section = SECTION_FIELDS[JobType(kind)]
    except ValueError:
        section = ()
    data = {"type": kind}
    errors: dict[str, str] = {}
    for name in (*COMMON_FIELDS, *section):
        raw = posted.get(prefix + name, "").strip()
        if not raw:
            continue
        try:
            value = _field_value(name, raw)
        except ValueError as exc:
            errors[prefix + name] = str(exc)
            continue
        if DEFAULTS.get(name, ...) != value:
            data[name] = value
    return data, errors


def editor_errors(messages: dict[str, str], prefix: str = "") -> dict[str, str]:
    """{spec field: message} -> {posted field: message}: next to the editor's field, or, for a key
    the editor has no field for (typed in the JSON view), on the JSON view, naming the key."""
    placed: dict[str, str] = {}
    for name, message in messages.items():
        if name in EDITOR_FIELDS:
            placed.setdefault(prefix + name, message)
        else:
            placed.setdefault(prefix + "json", f"{name}: {message}")
    return placed


def editor_values(spec: dict[str, Any], shown: frozenset[str] = EDITOR_FIELDS) -> dict[str, str]:
    """A stored spec as the editor's fields show it, and its JSON view (key `json`) in its own order.

    When the fields `shown` cannot hold it all (a key they lack, such as `meta`), the JSON view is
    what the form saves (`source`), so saving the form keeps the spec whole."""
    values = {name: str(value) for name, value in DEFAULTS.items()}
    for name, value in spec.items():
        if name in JSON_FIELDS:
            values[name] = json.dumps(value, indent=2, ensure_ascii=False)
        elif name == "env" and isinstance(value, dict):
            values[name] = "\n".join(f"{key}={item}" for key, item in value.items())
        elif name in EDITOR_FIELDS:
            values[name] = str(value)
    values["json"] = json.dumps(spec, indent=2, ensure_ascii=False)
    whole = set(spec) <= shown and isinstance(spec.get("env", {}), dict)
    values["source"] = "editor" if whole else "json"
    return values


def posted_values(posted: dict[str, str], prefix: str = "") -> dict[str, str]:
    """The editor's fields of a posted form, unprefixed, to show them again with their errors."""
    names = (*EDITOR_FIELDS, "json", "source")
    return {name: posted[prefix + name] for name in names if prefix + name in posted}
