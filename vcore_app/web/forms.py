"""HTML forms generated from pydantic models (script inputs, Quick Tools), and what hand-written
forms share (errors next to the fields, a new password typed twice).

`form_fields(Model)` turns the model's JSON schema into a flat list the `forms.html` macro renders:
text, textarea, number, checkbox and select (enums / Literal) fields, with required marks,
defaults and help. `form_values()` turns posted form data back into what the model validates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationInfo, field_validator

from vcore_app.errors import AppError
from vcore_app.web.schemas import Password


@dataclass
class FormField:
    name: str
    label: str
    kind: str  # text | textarea | number | checkbox | select | json
    required: bool
    default: Any = None
    options: list[Any] = field(default_factory=list)
    help: str = ""
    step: str = "any"


def _resolve(schema: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    """Follow a $ref or a nullable anyOf to the underlying type."""
    if "$ref" in prop:
        return {**schema.get("$defs", {}).get(prop["$ref"].split("/")[-1], {}), **{k: v for k, v in prop.items() if k != "$ref"}}
    if "anyOf" in prop:
        for option in prop["anyOf"]:
            if option.get("type") != "null":
                return {**_resolve(schema, option), **{k: v for k, v in prop.items() if k != "anyOf"}}
    return prop


def _kind(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return "select"
    kind = prop.get("type")
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return "number"
    if kind == "string":
        return "textarea" if prop.get("maxLength", 0) > 1000 else "text"
    return "json"


def form_fields(model: type[BaseModel]) -> list[FormField]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    fields = []
    for name, raw in schema.get("properties", {}).items():
        prop = _resolve(schema, raw)
        kind = _kind(prop)
        fields.append(FormField(
            name=name, label=prop.get("title", name.replace("_", " ").capitalize()), kind=kind,
            required=name in required, default=prop.get("default"), options=list(prop.get("enum", [])),
            help=prop.get("description", ""), step="1" if prop.get("type") == "integer" else "any",
        ))
    return fields


def form_values(model: type[BaseModel], form: dict[str, str]) -> dict[str, Any]:
    """Posted strings -> model input: unchecked boxes are False, empty optional fields are left out."""
    import json

    values: dict[str, Any] = {}
    for spec in form_fields(model):
        raw = form.get(spec.name)
        if spec.kind == "checkbox":
            values[spec.name] = raw is not None
        elif raw is None or (raw == "" and not (spec.kind in ("text", "textarea") and spec.required)):
            continue
        elif spec.kind == "json":
            try:
                values[spec.name] = json.loads(raw)
            except ValueError:
                values[spec.name] = raw  # the model's validation names the field
        else:
            values[spec.name] = raw
    return values


def field_errors(detail: Any) -> dict[str, str]:
    """A 422 detail list -> {field: message}, for showing errors next to the fields."""
    if not isinstance(detail, list):
        return {}
    return {str(error["loc"][-1]): error["msg"] for error in detail if error.get("loc")}


def form_errors(exc: AppError) -> tuple[dict[str, str], str | None]:
    """Errors next to the fields (a 422 list), or one message for the whole form (a rule such as
    "the last active superuser cannot be demoted", a 409)."""
    fields = field_errors(exc.message)
    return fields, None if fields else str(exc.message)


class NewPasswordTwice(BaseModel):
    """A new password and its repetition: a typo in a hidden field would lock the user out."""

    password: Password
    password_confirm: str

    @field_validator("password_confirm")
    @classmethod
    def _same(cls, value: str, info: ValidationInfo) -> str:
        # When `password` itself failed, its own error is enough.
        if "password" in info.data and value != info.data["password"]:
            raise ValueError("The two passwords differ")
        return value
