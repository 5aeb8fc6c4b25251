"""Forms speak plainly: pydantic's library wording becomes a sentence a person acts on, next to the
field, while the JSON API keeps pydantic's messages, which its clients may match on."""

from __future__ import annotations

import re
from typing import Literal

import pytest
from pydantic import BaseModel, EmailStr, Field, ValidationError
from starlette.testclient import TestClient

from tests.support.pages import HTML
from vcore_app.errors import field_errors
from vcore_app.users import Username


class _Form(BaseModel):
    name: str = Field(min_length=1)
    code: str = Field("abc", min_length=3, max_length=5)
    username: Username = "ok"
    url: str = Field("http://x", pattern=r"^https?://")
    email: EmailStr = "a@example.com"
    count: int = Field(1, ge=1, le=10)
    ratio: float = 0.5
    kind: Literal["a", "b"] = "a"


@pytest.mark.parametrize(
    ("field", "value", "plain"),
    [
        ("name", "", "Required"),
        ("code", "ab", "Enter at least 3 characters"),
        ("code", "abcdef", "Enter at most 5 characters"),
        ("username", "bad name!", "Use only letters, digits and the characters . @ + - _"),
        ("url", "ftp://x", "Must start with http:// or https://"),
        ("email", "nobody", "Enter an e-mail address such as name@example.com (An email address must have an @-sign)"),
        ("count", "many", "Enter a whole number"),
        ("count", "0", "Enter 1 or more"),
        ("count", "11", "Enter 10 or less"),
        ("ratio", "half", "Enter a number"),
        ("kind", "c", "Choose one of a or b"),
    ],
)
def test_a_library_message_is_said_plainly(field: str, value: str, plain: str) -> None:
    data = {"name": "n", field: value}
    with pytest.raises(ValidationError) as failed:
        _Form.model_validate(data)
    [error] = field_errors(failed.value)
    assert error.loc == ("body", field) and error.for_people == plain
    assert error.msg != plain, "the API keeps pydantic's own message"


def test_a_missing_field_is_required() -> None:
    with pytest.raises(ValidationError) as failed:
        _Form.model_validate({})
    assert [error.for_people for error in field_errors(failed.value)] == ["Required"]


def test_the_form_says_it_plainly_and_the_api_keeps_pydantics_words(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    form = client.post("/jobs/new", data={"type": "api_post", "url": "ftp://x"}, headers={**admin_headers, **HTML})
    assert re.search(r'data-error-for="url">Must start with http:// or https://<', form.text), form.text
    api = client.post("/api/v1/jobs", json={"type": "api_post", "url": "ftp://x"}, headers=admin_headers)
    assert api.status_code == 422 and api.json()["detail"][0]["msg"] == "String should match pattern '^https?://'"
