"""HTML forms generated from pydantic models (script inputs, Quick Tools), and what hand-written
forms share: a new password typed twice (errors next to the fields are web/errors.py).

`fields_of_model(Model)` turns the model's JSON schema into a flat list the `forms.html` macro renders:
text, textarea, number, checkbox and select (enums / Literal) fields, with required marks,
defaults and help. `form_values()` turns posted form data back into what the model validates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationInfo, field_validator

from vcore_app.users import Password


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
        return {
            **schema.get("$defs", {}).get(prop["$ref"].split("/")[-1], {}),
            **{k: v for k, v in prop.items() if k != "$ref"},
        }
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


# Words a label spells in capitals when it is made from a field's name (`url` -> "URL").
_ACRONYMS = {"url": "URL", "id": "ID", "api": "API", "http": "HTTP", "json": "JSON", "ip": "IP", "llm": "LLM"}


def field_label(name: str, prop: dict[str, Any]) -> str:
    """The title the field declares, else its name in words: pydantic's own title is the name in
    title case ("Url", "Expect Status"), which reads like a variable, not a label."""
    title = prop.get("title")
    if title and title != name.title().replace("_", " "):
        return str(title)
    words = [_ACRONYMS.get(word, word) for word in name.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def fields_of_model(model: type[BaseModel]) -> list[FormField]:
    """The inputs of a form for `model`, from its JSON schema."""
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    fields = []
    for name, raw in schema.get("properties", {}).items():
        prop = _resolve(schema, raw)
        kind = _kind(prop)
        fields.append(
            FormField(
                name=name,
                label=field_label(name, prop),
                kind=kind,
                required=name in required,
                default=prop.get("default"),
                options=list(prop.get("enum", [])),
                help=prop.get("description", ""),
                step="1" if prop.get("type") == "integer" else "any",
            )
        )
    return fields


def form_values(model: type[BaseModel], form: dict[str, str]) -> dict[str, Any]:
    """Posted strings -> model input: unchecked boxes are False, empty optional fields are left out."""
    import json

    values: dict[str, Any] = {}
    for spec in fields_of_model(model):
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
