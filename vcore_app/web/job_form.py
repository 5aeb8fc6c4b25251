"""The job editor (assets/templates/jobs/_editor.html): one set of fields for "what runs and how",
used by the new-job form and by the scheduler form for the job a scheduler creates.

Both directions live here: posted fields -> a job spec (`spec_input`), and a stored spec -> the
fields' text (`editor_values`). The editor also has an advanced view, the spec as JSON; job_editor.js
keeps the two in sync and records in `<prefix>source` which one the person edited last: that one is
saved. A stored spec the fields cannot hold whole (a `meta` key) starts with the JSON in charge.
Without JavaScript the JSON view is read-only, so what is saved is what the page shows in charge.

A spec made from the fields holds only what the person filled in and changed from the form's
defaults: saved and shown again, it reads as they typed it, with no defaults added. A script's input
is a form made from its input schema (web/forms.py), one per script, its fields `input-<script>-<name>`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, get_args

from pydantic import ValidationError

from vcore_app.errors import FieldError, field_errors
from vcore_app.jobs.spec import TYPE_FIELDS, JobSpec, QueueName
from vcore_app.models import JobPriority, JobType
from vcore_app.scripts.registry import ScriptRegistry, UnknownScript
from vcore_app.web.forms import FormField, fields_of_model

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
EDITOR_FIELDS = frozenset({"type", *COMMON_FIELDS, *(name for names in SECTION_FIELDS.values() for name in names)})
# How a field's text is read: JSON, NAME=value lines, a number, or as it is. A script's input has no
# field of its own: each script has a form from its input schema.
_KINDS = {"headers": "json", "body": "json", "notify": "json", "env": "env"} | dict.fromkeys(
    ("max_retries", "retry_delay_seconds", "timeout_seconds"), "number"
)
# What the fields show before anything is typed. A field left at its default is not put in the
# spec: the job gets the same value from JobSpec's own default.
DEFAULTS: dict[str, Any] = {
    "priority": str(JobPriority.NORMAL),
    "queue_name": "default",
    "max_retries": 0,
    "retry_delay_seconds": 0,
}


def editor_choices(scripts: ScriptRegistry, types: list[JobType]) -> dict[str, Any]:
    """What the editor's template offers: types, priorities, queues, scripts with the fields of
    their input forms, and the defaults and helpers it draws them with."""
    described = scripts.describe()
    return {
        "types": types,
        "priorities": list(JobPriority),
        "queues": get_args(QueueName),
        "scripts": described,
        "script_fields": {script["name"]: script_fields(scripts, script["name"]) for script in described},
        "input_key": input_key,
        "input_text": input_text,
        "job_defaults": DEFAULTS,
    }


def input_key(script: str, field: str) -> str:
    """The form field of one input of one script (each script's form has its own fields)."""
    return f"input-{script}-{field}"


def script_fields(scripts: ScriptRegistry, script: str) -> list[FormField]:
    """The fields of a script's input form; none for a script that does not exist."""
    try:
        return fields_of_model(scripts.get(script).Input)
    except UnknownScript:
        return []


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


def _read(kind: str, raw: str) -> Any:
    """A field's text as the spec holds it; ValueError saying what is wrong with it. A number stays
    as typed (3, 2.5); text that is no number is left for JobSpec to refuse in plain words. Text
    keeps its spaces: they may matter to a command."""
    if kind == "json":
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"Not valid JSON: {exc}") from None
    if kind == "env":
        return parse_env(raw)
    if kind == "number":
        try:
            number = json.loads(raw)
        except ValueError:
            return raw
        return number if isinstance(number, int | float) and not isinstance(number, bool) else raw.strip()
    return raw.replace("\r\n", "\n")  # a browser sends a textarea's line breaks as CR LF


def _script_input(
    posted: dict[str, str], prefix: str, scripts: ScriptRegistry
) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted input form of the chosen script: what differs from its defaults, and the errors
    of fields that could not be read."""
    script = posted.get(prefix + "script", "")
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in script_fields(scripts, script):
        key = prefix + input_key(script, field.name)
        raw = posted.get(key, "")
        if field.kind != "checkbox" and not raw.strip():
            continue
        try:
            value = key in posted if field.kind == "checkbox" else _read(field.kind, raw)
        except ValueError as exc:
            errors[key] = str(exc)
            continue
        if value != field.default:
            values[field.name] = value
    return values, errors


def spec_input(
    posted: dict[str, str], scripts: ScriptRegistry, prefix: str = ""
) -> tuple[dict[str, Any], dict[str, str]]:
    """The editor's posted fields -> JobSpec input, and the errors of fields that could not be read
    (keyed by the posted field's name).

    From the JSON view when the person edited it last, else from the fields: empty fields and
    fields at their default are left out, so a missing command reads "Field required for a command
    job" and a saved spec holds only what was typed."""
    if posted.get(f"{prefix}source") == "json":
        try:
            typed = json.loads(posted.get(f"{prefix}json", ""))
        except ValueError as exc:
            return {}, {f"{prefix}json": f"Not valid JSON: {exc}"}
        if not isinstance(typed, dict):
            return {}, {f"{prefix}json": "Must be a JSON object, {...}"}
        return typed, {}
    kind = posted.get(f"{prefix}type", "")
    try:
        section = SECTION_FIELDS[JobType(kind)]
    except ValueError:
        section = ()
    data: dict[str, Any] = {"type": kind}
    errors: dict[str, str] = {}
    for name in (*COMMON_FIELDS, *section):
        if name == "input":
            values, errors_of_input = _script_input(posted, prefix, scripts)
            data.update({"input": values} if values else {})
            errors.update(errors_of_input)
            continue
        raw = posted.get(prefix + name, "")
        if not raw.strip():
            continue
        try:
            value = _read(_KINDS.get(name, "text"), raw)
        except ValueError as exc:
            errors[prefix + name] = str(exc)
            continue
        if DEFAULTS.get(name, ...) != value:
            data[name] = value
    return data, errors


def spec_errors(spec: dict[str, Any], scripts: ScriptRegistry, prefix: str = "") -> dict[str, str]:
    """Every error of the spec the form can tell before the domain sees it, at once: the fields its
    type needs that are empty (JobSpec.checked says so only once the rest is valid, so a person would
    fix the form in two rounds), and the fields JobSpec refuses."""
    try:
        need = sorted(TYPE_FIELDS[JobType(spec.get("type", ""))][0] - set(spec))
    except ValueError:  # no type: JobSpec says so
        need = []
    problems = [FieldError(("body", name), f"Field required for a {spec['type']} job") for name in need]
    try:
        JobSpec.model_validate(spec)
    except ValidationError as exc:
        problems += field_errors(exc)
    return editor_errors(problems, spec, scripts, prefix)


def editor_errors(
    fields: Sequence[FieldError], spec: dict[str, Any], scripts: ScriptRegistry, prefix: str = "", under: str = ""
) -> dict[str, str]:
    """Errors of a spec (its location after `body` and `under`) -> {posted field: message}: next to
    the editor's field, a script input's next to its field in the script's form, the rest (a key the
    editor has no field for, typed in the JSON view) on the JSON view, naming the key. An error
    naming no field is the type's. The first error of a field wins."""
    script = str(spec.get("script", ""))
    inputs = {field.name for field in script_fields(scripts, script)}
    placed: dict[str, str] = {}
    for error in fields:
        loc = [str(part) for part in error.loc[1:]]
        if under and loc[:1] == [under]:
            loc = loc[1:]
        if loc[:1] == ["input"] and len(loc) > 1 and loc[1] in inputs:
            key, loc = input_key(script, loc[1]), loc[2:]
        elif not loc or loc[0] in EDITOR_FIELDS - {"input"}:
            key, loc = (loc[0], loc[1:]) if loc else ("type", [])
        else:
            key = "json"
        placed.setdefault(prefix + key, f"{'.'.join(loc)}: {error.for_people}" if loc else error.for_people)
    return placed


def editor_values(
    spec: dict[str, Any], scripts: ScriptRegistry, shown: frozenset[str] = EDITOR_FIELDS
) -> dict[str, str]:
    """A stored spec as the editor's fields show it, and its JSON view (key `json`) in its own order.

    When the fields `shown` cannot hold it all (a key they lack, such as `meta`, or an input the
    script's form has no field for), the JSON view is what the form saves (`source`), so saving the
    form keeps the spec whole."""
    values = {name: str(value) for name, value in DEFAULTS.items()}
    whole = set(spec) <= shown
    for name, value in spec.items():
        if name == "input":
            whole = _input_values(values, spec, scripts) and whole
        elif _KINDS.get(name) == "json":
            values[name] = json.dumps(value, indent=2, ensure_ascii=False)
        elif name == "env":
            whole = whole and isinstance(value, dict)
            values[name] = "\n".join(f"{key}={item}" for key, item in dict(value or {}).items())
        elif name in EDITOR_FIELDS:
            values[name] = str(value)
    values["json"] = json.dumps(spec, indent=2, ensure_ascii=False)
    values["source"] = "editor" if whole else "json"
    return values


def _input_values(values: dict[str, str], spec: dict[str, Any], scripts: ScriptRegistry) -> bool:
    """Put a script's input into its form's fields; False when the form cannot hold all of it."""
    script, given = str(spec.get("script", "")), spec.get("input")
    fields = {field.name: field for field in script_fields(scripts, script)}
    if not isinstance(given, dict):
        return given is None
    for name, value in given.items():
        field = fields.get(name)
        if field is None:
            return False
        values[input_key(script, name)] = input_text(field, value)
    return True


def input_text(field: FormField, value: Any) -> str:
    """What the field of a script's input shows for `value` (its default, too: the script form
    leaves out what still reads as the default)."""
    if field.kind == "checkbox":
        return "on" if value else ""
    if value is None:
        return ""
    if field.kind == "json":
        return json.dumps(value, indent=2, ensure_ascii=False)
    return str(value)


def posted_values(posted: dict[str, str], prefix: str = "") -> dict[str, str]:
    """The editor's fields of a posted form, unprefixed, to show them again with their errors."""
    names = (*EDITOR_FIELDS, "json", "source")
    shown = {name: posted[prefix + name] for name in names if prefix + name in posted}
    inputs = {key[len(prefix) :]: value for key, value in posted.items() if key.startswith(prefix + "input-")}
    return {**shown, **inputs}
