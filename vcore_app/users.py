"""Accounts: create, authenticate, change. Keyword-only; the caller passes the session."""

from __future__ import annotations

from typing import Annotated, Any

from loguru import logger
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from vcore_app import access, audit, db
from vcore_app.auth.passwords import hash_password, password_problem, verify_password
from vcore_app.errors import AppError, FieldError, invalid
from vcore_app.models import User, utcnow
from vcore_app.settings import Settings

INCORRECT_PASSWORD = "Incorrect password"


def _password_error(field: str, problem: str) -> AppError:
    return invalid(field, f"Password {problem}")


def _valid_password(value: str) -> str:
    problem = password_problem(value)
    if problem:
        raise ValueError(f"Password {problem}")
    return value


# Checked again below (a caller may skip these models); in a model it gives a 422 naming the field.
Password = Annotated[str, AfterValidator(_valid_password)]
# Letters (any script), digits and . @ + - _ : safe in URLs, logs and the CLI.
Username = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.@+-]+$")]
FullName = Annotated[str, Field(max_length=128)]


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field (say, is_superuser) is a 422, not ignored


class UserRegister(StrictInput):
    """A new account as a person (the API, the CLI) describes it."""

    username: Username
    email: EmailStr
    password: Password
    full_name: FullName = ""


def get_user(*, session: Session, user_id: int) -> User:
    """The user, or AppError 404."""
    user = session.get(User, user_id)
    if user is None:
        raise AppError("User not found", 404)
    return user


def get_by_username(*, session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def get_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def create_user(
    *,
    session: Session,
    username: str,
    email: str,
    password: str,
    full_name: str = "",
    is_superuser: bool = False,
    is_active: bool = True,
) -> User:
    problem = password_problem(password)
    if problem:
        raise _password_error("password", problem)
    _check_unique(session=session, username=username, email=email)
    user = User(
        username=username,
        email=email,
        full_name=full_name,
        hashed_password=hash_password(password),
        is_superuser=is_superuser,
        is_active=is_active,
    )
    _flush_unique(session=session, user=user, username=username, email=email)
    audit.record(session, action="user.create", target=_who(user))  # audit (issue 17)
    return user


def _who(user: User) -> str:
    return f"user {user.id} {user.username}"


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    """The user when the password matches and the account is active; same cost either way."""
    user = get_by_username(session=session, username=username)
    ok, new_hash = verify_password(password, user.hashed_password if user else None)
    if not ok or user is None or not user.is_active:
        return None
    if new_hash:
        user.hashed_password = new_hash
    user.last_login_at = utcnow()
    session.add(user)
    return user


def set_password(*, session: Session, user: User, password: str, field: str = "new_password") -> None:
    """Change the password and log out every session of the user (token_version bump)."""
    problem = password_problem(password)
    if problem:
        raise _password_error(field, problem)
    user.hashed_password = hash_password(password)
    revoke_all_tokens(session=session, user=user, reason="password changed")


def change_password(*, session: Session, user: User, current_password: str, new_password: str) -> None:
    """A user changing its own password proves it knows the current one (a stolen session is not enough)."""
    ok, _ = verify_password(current_password, user.hashed_password)
    if not ok:
        # A 400, not a 422 (the request was well-formed); a form still shows it next to the field.
        raise AppError(INCORRECT_PASSWORD, 400, [FieldError(("body", "current_password"), INCORRECT_PASSWORD)])
    set_password(session=session, user=user, password=new_password)
    audit.record(session, action="user.password", target=_who(user))  # audit (issue 17)


def revoke_all_tokens(*, session: Session, user: User, reason: str = "logged out everywhere") -> None:
    """Log the user out everywhere: every token issued before no longer matches `ver`, and its open
    WebSockets close. API keys stay valid, like personal access tokens: they are for scripts, and
    are deleted one by one on the profile page (README, "Users and login")."""
    user.token_version += 1
    session.add(user)
    access.changed(session, user_id=user.id, code=access.UNAUTHORIZED, reason=reason, sessions_only=True)  # issue 12


def _check_unique(*, session: Session, username: str | None, email: str | None, exclude: int | None = None) -> None:
    for value, getter, field in ((username, get_by_username, "username"), (email, get_by_email, "email")):
        other = getter(session=session, **{field: value}) if value is not None else None
        if other is not None and other.id != exclude:
            # a conflict (409) naming its field, so a form shows it there (the API answers the sentence)
            message = f"A user with this {field} already exists"
            raise AppError(message, 409, fields=[FieldError(("body", field), message)])


def _flush_unique(*, session: Session, user: User, username: str | None, email: str | None) -> None:
    """Write `user`; a twin request that took the username or e-mail meanwhile is the same 409 as one
    `_check_unique` saw. SQLite's one writer lets that look see the twin; on PostgreSQL both requests
    pass it and the unique index stops the second once the first has committed (issue 20)."""
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        _check_unique(session=session, username=username, email=email, exclude=user.id)
        raise


def any_user_exists(*, session: Session) -> bool:
    return session.exec(select(User.id).limit(1)).first() is not None


def list_users(*, session: Session, limit: int, offset: int) -> tuple[list[User], int]:
    total = session.exec(select(func.count()).select_from(User)).one()
    users = session.exec(select(User).order_by(col(User.id)).limit(limit).offset(offset)).all()
    return list(users), total


def _is_last_active_superuser(*, session: Session, user: User) -> bool:
    if not (user.is_superuser and user.is_active):
        return False
    # FOR UPDATE, in id order: two superusers demoting each other at once must not both see the other
    # still there. SQLite's one writer orders them anyway; PostgreSQL makes the second wait here and
    # then see the first's change (issue 20).
    active = select(User.id).where(User.is_superuser, User.is_active).order_by(col(User.id)).with_for_update()
    return set(session.exec(active).all()) <= {user.id}


def update_user(*, session: Session, user: User, changes: dict[str, Any]) -> User:
    """Apply the given fields (username, email, full_name, password, is_active, is_superuser).

    Deactivating logs the user out everywhere. The last active superuser cannot be demoted or
    deactivated: nobody could manage the users any more.
    """
    losing_power = changes.get("is_superuser") is False or changes.get("is_active") is False
    if losing_power and _is_last_active_superuser(session=session, user=user):
        raise AppError("The last active superuser cannot be demoted or deactivated", 409)
    _check_unique(session=session, username=changes.get("username"), email=changes.get("email"), exclude=user.id)
    password = changes.pop("password", None)
    if password is not None:
        set_password(session=session, user=user, password=password, field="password")
    if changes.get("is_active") is False and user.is_active:
        revoke_all_tokens(session=session, user=user, reason="account deactivated")
        access.changed(session, user_id=user.id, code=access.UNAUTHORIZED, reason="account deactivated")  # issue 12
    elif "is_superuser" in changes and changes["is_superuser"] != user.is_superuser:  # issue 12
        access.changed(session, user_id=user.id, code=access.FORBIDDEN, reason="role changed")
    _audit_changes(session, user, changes, password_changed=password is not None)  # audit (issue 17)
    for name, value in changes.items():
        setattr(user, name, value)
    _flush_unique(session=session, user=user, username=changes.get("username"), email=changes.get("email"))
    return user


def _audit_changes(session: Session, user: User, changes: dict[str, Any], *, password_changed: bool) -> None:
    """Role and activation changes get rows of their own; other edits one row naming the fields (never values)."""
    changed = sorted(name for name, value in changes.items() if getattr(user, name) != value)
    if "is_superuser" in changed:
        granted = "granted" if changes["is_superuser"] else "revoked"
        audit.record(session, action="user.role", target=f"{_who(user)}: superuser {granted}")
    if "is_active" in changed:
        audit.record(session, action="user.activate" if changes["is_active"] else "user.deactivate", target=_who(user))
    fields = [name for name in changed if name not in ("is_superuser", "is_active")]
    fields += ["password"] if password_changed else []
    if fields:
        audit.record(session, action="user.update", target=f"{_who(user)}: {', '.join(fields)}")


def delete_user(*, session: Session, user: User) -> None:
    """Delete the account; its API keys and revoked-token records go with it (ON DELETE CASCADE)."""
    if _is_last_active_superuser(session=session, user=user):
        raise AppError("The last active superuser cannot be deleted", 409)
    access.changed(session, user_id=user.id, code=access.UNAUTHORIZED, reason="account deleted")  # issue 12
    session.delete(user)
    audit.record(session, action="user.delete", target=_who(user))  # audit (issue 17)


def ensure_first_superuser(*, settings: Settings, engine: Engine) -> None:
    """Create FIRST_SUPERUSER_* at start when they are set and no user exists yet."""
    password = settings.FIRST_SUPERUSER_PASSWORD.get_secret_value()
    if not (settings.FIRST_SUPERUSER_USERNAME and settings.FIRST_SUPERUSER_EMAIL and password):
        return
    with db.session(engine) as session:
        if any_user_exists(session=session):
            return
        create_user(
            session=session,
            username=settings.FIRST_SUPERUSER_USERNAME,
            email=settings.FIRST_SUPERUSER_EMAIL,
            password=password,
            is_superuser=True,
        )
    logger.info("created the first superuser {!r} from FIRST_SUPERUSER_*", settings.FIRST_SUPERUSER_USERNAME)
