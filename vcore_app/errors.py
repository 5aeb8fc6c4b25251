"""The one exception a user can act on, and the field errors it may carry.

Domain code raises `AppError("one sentence", status)`, or `invalid(field, message)` for a 422 naming
one field; a pydantic failure becomes an AppError through `from_validation`. How an AppError is
answered (JSON `{"detail": ...}` or an HTML page, errors next to form fields) is the web layer's
business (vcore_app/web/errors.py): nothing here knows about requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class FieldError:
    """One bad field: where (`("body", "job_template", "command")`), what is wrong, and a kind
    (`value_error`, `missing`, ...), as pydantic and FastAPI name them."""

    loc: Loc
    msg: str
    type: str = "value_error"
    # What a form shows next to the field when `msg` is a library's wording (`plain_message`); the
    # API keeps `msg`, which its clients may match on.
    plain: str = ""

    def moved(self, prefix: Loc) -> FieldError:
        """The same error inside a larger document: `("body", "x")` under `("body", "outer")`."""
        return FieldError((*prefix, *self.loc[1:]), self.msg, self.type, self.plain)

    @property
    def for_people(self) -> str:
        """The sentence for a person filling in a form."""
        return self.plain or self.msg

    def as_json(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg, "type": self.type}


class AppError(Exception):
    """A failure the user can act on: one sentence, the HTTP status that fits it, and the fields it
    is about (a 422 lists them; a page shows each next to its field)."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        fields: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.fields = tuple(fields)
        self.headers = dict(headers) if headers else None


def invalid(field: str, message: str, location: str = "body") -> AppError:
    """A 422 naming one field."""
    return invalid_fields([FieldError((location, field), message)])


def invalid_fields(fields: Sequence[FieldError]) -> AppError:
    """A 422 naming the given fields; its message is the first of them, for one-line outputs (CLI)."""
    first = fields[0]
    name = ".".join(map(str, first.loc[1:]))
    return AppError(f"{name}: {first.msg}" if name else first.msg, 422, fields)


def field_errors(exc: ValidationError, prefix: Loc = ("body",)) -> list[FieldError]:
    """pydantic's errors as FieldErrors under `prefix` (its "Value error, " noise dropped), each with
    its plain-language form."""
    return [
        FieldError(
            (*prefix, *map(str, error["loc"])),
            error["msg"].removeprefix("Value error, "),
            error["type"],
            plain_message(error["type"], error.get("ctx") or {}),
        )
        for error in exc.errors(include_url=False, include_input=False)
    ]


# Patterns of our models a person may meet in a form, said in words (the rest name their pattern).
_PATTERNS = {
    r"^https?://": "Must start with http:// or https://",
    r"^[\w.@+-]+$": "Use only letters, digits and the characters . @ + - _",
}


def plain_message(kind: str, ctx: dict[str, Any]) -> str:
    """pydantic's error `kind` in words a person filling in a form understands; "" where pydantic's
    own message is the one to show (our validators' sentences, kinds no form field meets)."""
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "Required"
    if kind == "value_error" and "reason" in ctx:  # email-validator's, the one library value error
        return f"Enter an e-mail address such as name@example.com ({str(ctx['reason']).rstrip('.')})"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return _PATTERNS.get(pattern, f"Does not have the expected form ({pattern})")
    if kind in ("literal_error", "enum"):
        return f"Choose one of {str(ctx.get('expected', 'the values offered')).replace(chr(39), '')}"  # no quotes
    template = _WORDS.get(kind)
    return template.format(**ctx) if template else ""


_WORDS = {
    "string_too_short": "Enter at least {min_length} characters",
    "string_too_long": "Enter at most {max_length} characters",
    "too_long": "At most {max_length} items",
    "int_parsing": "Enter a whole number",
    "int_from_float": "Enter a whole number",
    "float_parsing": "Enter a number",
    "greater_than_equal": "Enter {ge} or more",
    "greater_than": "Enter a number above {gt}",
    "less_than_equal": "Enter {le} or less",
    "less_than": "Enter a number below {lt}",
    "bool_parsing": "Choose yes or no",
    "string_type": "Enter text",
    "dict_type": 'Enter a JSON object, such as {{"key": "value"}}',
    "extra_forbidden": "Not a field of this form",
}


def from_validation(exc: ValidationError, prefix: Loc = ("body",)) -> AppError:
    """A pydantic ValidationError as the 422 naming its fields."""
    return invalid_fields(field_errors(exc, prefix))
