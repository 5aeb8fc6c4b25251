"""Accounts: create, authenticate, change. Keyword-only; the caller passes the session."""

from __future__ import annotations

from loguru import logger
from sqlalchemy import Engine
from sqlmodel import Session, select

from vcore_app import db
from vcore_app.auth.passwords import hash_password, password_problem, verify_password
from vcore_app.errors import AppError
from vcore_app.models import User, utcnow
from vcore_app.settings import Settings


def get_by_username(*, session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def get_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def create_user(*, session: Session, username: str, email: str, password: str, full_name: str = "",
                is_superuser: bool = False) -> User:
    problem = password_problem(password)
    if problem:
        raise AppError([{"loc": ["body", "password"], "msg": f"Password {problem}", "type": "value_error"}], 422)
    if get_by_username(session=session, username=username):
        raise AppError("A user with this username already exists", 409)
    if get_by_email(session=session, email=email):
        raise AppError("A user with this email already exists", 409)
    user = User(username=username, email=email, full_name=full_name, hashed_password=hash_password(password),
                is_superuser=is_superuser)
    session.add(user)
    session.flush()
    return user


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


def set_password(*, session: Session, user: User, password: str) -> None:
    """Change the password and log out every session of the user (token_version bump)."""
    problem = password_problem(password)
    if problem:
        raise AppError([{"loc": ["body", "new_password"], "msg": f"Password {problem}", "type": "value_error"}], 422)
    user.hashed_password = hash_password(password)
    user.token_version += 1
    session.add(user)


def count_users(*, session: Session) -> int:
    return len(session.exec(select(User.id)).all())


def ensure_first_superuser(*, settings: Settings, engine: Engine) -> None:
    """Create FIRST_SUPERUSER_* at start when they are set and no user exists yet."""
    password = settings.FIRST_SUPERUSER_PASSWORD.get_secret_value()
    if not (settings.FIRST_SUPERUSER_USERNAME and settings.FIRST_SUPERUSER_EMAIL and password):
        return
    with db.session(engine) as session:
        if session.exec(select(User.id).limit(1)).first() is not None:
            return
        create_user(session=session, username=settings.FIRST_SUPERUSER_USERNAME,
                    email=settings.FIRST_SUPERUSER_EMAIL, password=password, is_superuser=True)
    logger.info("created the first superuser {!r} from FIRST_SUPERUSER_*", settings.FIRST_SUPERUSER_USERNAME)
