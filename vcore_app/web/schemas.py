"""What the API shows of our objects. Never a hash, a token or a key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from vcore_app.models import User


class UserPublic(BaseModel):
    id: int
    username: str
    email: str
    full_name: str
    is_active: bool
    is_superuser: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> dict[str, Any]:
        return cls.model_validate(user, from_attributes=True).model_dump(mode="json")
