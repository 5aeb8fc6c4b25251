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

    def moved(self, prefix: Loc) -> FieldError:
        """The same error inside a larger document: `("body", "x")` under `("body", "outer")`."""
        return FieldError((*prefix, *self.loc[1:]), self.msg, self.type)

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
    """pydantic's errors as FieldErrors under `prefix` (its "Value error, " noise dropped)."""
    return [
        FieldError((*prefix, *map(str, error["loc"])), error["msg"].removeprefix("Value error, "), error["type"])
        for error in exc.errors(include_url=False, include_input=False)
    ]


def from_validation(exc: ValidationError, prefix: Loc = ("body",)) -> AppError:
    """A pydantic ValidationError as the 422 naming its fields."""
    return invalid_fields(field_errors(exc, prefix))
