"""Settings: one table of name, default and help, read from (highest first) CLI flags, the
environment, `./.env`, `DATA_DIR/.env`, the generated `DATA_DIR/secrets.env`, then defaults.

Nothing is required: an appliance starts with no configuration. Defaults that are paths point
inside the data folder; they are filled in once DATA_DIR is known.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator, validate_email
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

APP_NAME = "vcore-app"
DATA_DIR_ENV = "VCORE_DATA_DIR"
SECRETS_FILE = "secrets.env"
GENERATED_SECRETS = ("JWT_ACCESS_SECRET_KEY", "JWT_REFRESH_SECRET_KEY")
# Keys of the seed's example configuration that this app has no use for: one process serves on one
# address (no proxy or uvicorn entry point of its own), Huey logs into the app log, the name and
# version are the package's, JWT is always HS256 and the API always lives under /api/v1. Named in
# the start-up warning rather than silently dropped (README, "Settings").
SEED_KEYS_IGNORED = frozenset(
    {
        "BASE_DOMAIN",
        "PROXY_HOST",
        "UVICORN_RELOAD",
        "UVICORN_ENTRYPOINT",
        "UVICORN_WORKERS",
        "HUEY_DEFAULT_LOG_PATH",
        "HUEY_RESERVED_LOG_PATH",
        "PACKAGE_NAME",
        "VERSION",
        "ALGORITHM",
        "API_V1_PREFIX",
    }
)


class SettingsError(Exception):
    """A setting has a bad value: one line for the user, naming the setting and the value."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        extra="ignore", case_sensitive=False, validate_default=True, populate_by_name=True
    )

    DATA_DIR: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)),
        validation_alias=DATA_DIR_ENV,
        description="Folder holding the database, queues, logs and plugins (--data-dir).",
    )
    ENV_NAME: str = Field("local", description="Name of this installation; schedulers can be limited to it.")
    DEBUG: bool = Field(False, description="Show tracebacks in error pages. Never on a shared network.")
    LOG_LEVEL: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Least severe level written to the console and logs/vcore.log."
    )
    LOG_ROTATION: str = Field("10 MB", description="Size or age at which logs/vcore.log is rotated.")
    LOG_RETENTION: str = Field("14 days", description="How long rotated app logs are kept.")
    DB_URL: str = Field("", description="SQLAlchemy URL of the app database (default: DATA_DIR/vcore.sqlite3).")
    DATABASE_ECHO: bool = Field(False, description="Log every SQL statement (very noisy).")
    SERVER_HOST: str = Field("127.0.0.1", description="Address to listen on (--host); 0.0.0.0 exposes it.")
    SERVER_PORT: int = Field(5000, ge=1, le=65535, description="TCP port to listen on (--port).")
    BASE_URL: str = Field(
        "", description="Public URL of the app, used in links and mails (default: from host and port)."
    )
    OPEN_BROWSER: bool = Field(False, description="Open a browser at the app once it listens (--open-browser).")
    JWT_ACCESS_SECRET_KEY: SecretStr = Field(
        SecretStr(""), description="Key signing access tokens (default: generated into DATA_DIR/secrets.env)."
    )
    JWT_REFRESH_SECRET_KEY: SecretStr = Field(
        SecretStr(""), description="Key signing refresh tokens (default: generated into DATA_DIR/secrets.env)."
    )
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(30, ge=1, description="Lifetime of an access token.")
    REFRESH_TOKEN_EXPIRE_MINUTES: int = Field(10080, ge=1, description="Lifetime of a refresh token (7 days).")
    SESSION_EXPIRE_MINUTES: int = Field(
        10080, ge=1, description="Lifetime of a browser login (the session cookie), 7 days; logging out ends it sooner."
    )
    HUEY_DEFAULT_SQLITE_PATH: Path | None = Field(
        None, description="Storage of the `default` queue (default: DATA_DIR/huey_default.sqlite3)."
    )
    HUEY_RESERVED_SQLITE_PATH: Path | None = Field(
        None, description="Storage of the `reserved` queue (default: DATA_DIR/huey_reserved.sqlite3)."
    )
    WORKERS_DEFAULT: int = Field(
        2, ge=0, le=64, description="Worker threads of the `default` queue (--workers-default)."
    )
    WORKERS_RESERVED: int = Field(
        1, ge=0, le=64, description="Worker threads of the `reserved` queue (--workers-reserved)."
    )
    SHUTDOWN_TIMEOUT: float = Field(
        5.0, ge=0, le=60, description="Seconds running jobs get to finish at shutdown before they are terminated."
    )
    JOB_LOG_MAX_BYTES: int = Field(
        10_000_000,
        ge=1_000_000,
        description="Cap of one job's log file; over it, the head and the tail are kept with a marker line between.",
    )
    JOB_LOG_RETENTION_DAYS: int = Field(
        30, ge=1, description="Job log files untouched for this many days are removed (checked daily)."
    )
    JOB_KILL_GRACE_SECONDS: float = Field(
        5.0,
        ge=0,
        le=60,
        description="After SIGTERM, seconds a killed or timed-out job's process group gets before SIGKILL.",
    )
    FIRST_SUPERUSER_USERNAME: str = Field(
        "", description="With _EMAIL and _PASSWORD: the superuser created at start if no user exists."
    )
    FIRST_SUPERUSER_EMAIL: str = Field(
        "", description="E-mail of the first superuser (checked like the API checks e-mails)."
    )
    FIRST_SUPERUSER_PASSWORD: SecretStr = Field(SecretStr(""), description="Password of the first superuser.")
    USERS_OPEN_REGISTRATION: bool = Field(False, description="Let anyone create a regular account at /api/v1/register.")
    EMAILS_ENABLED: bool = Field(False, description="Send mail (password reset, notifications) through SMTP_*.")
    SMTP_HOST: str = Field("", description="SMTP server host name.")
    SMTP_PORT: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    SMTP_USER: str = Field("", description="SMTP user name (empty: no login).")
    SMTP_PASSWORD: SecretStr = Field(SecretStr(""), description="SMTP password.")
    SMTP_TLS: bool = Field(True, description="Use STARTTLS with the SMTP server.")
    SMTP_SSL: bool = Field(False, description="Connect to the SMTP server over implicit TLS (port 465).")
    EMAILS_FROM_EMAIL: str = Field("vcore@localhost", description="Sender address of mails.")
    EMAILS_FROM_NAME: str = Field("vCore", description="Sender name of mails.")
    EMAIL_RESET_TOKEN_EXPIRE_HOURS: int = Field(48, ge=1, description="Lifetime of a password-reset link.")
    PROJECT_NAME: str = Field("vCore", description="Name shown in the title and the navbar.")
    PROJECT_DESCRIPTION: str = Field("Self-hosted job runner", description="One line shown under the name.")
    TIMEZONE: str = Field("UTC", description="IANA time zone for display and for schedulers that name none.")
    ACCENT: str = Field("#0d6efd", description="Brand colour of the UI, as #rrggbb.")
    API_DOCS_PUBLIC: bool = Field(
        False,
        description="Serve /docs, /redoc and /api/v1/openapi.json without a login (the API itself still needs one).",
    )
    BACKEND_CORS_ORIGINS: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) whose browser pages may call the API with credentials, "
        "comma-separated or a JSON list; `*` lets any origin call it without credentials. "
        "Empty: no CORS headers at all.",
    )

    @field_validator("TIMEZONE")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a tzdata folder such as "America"
            raise ValueError("unknown IANA time zone (e.g. UTC, Europe/Berlin)") from None
        return value

    @field_validator("ACCENT")
    @classmethod
    def _hex_colour(cls, value: str) -> str:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValueError("expected a colour as #rrggbb")
        return value

    @field_validator("FIRST_SUPERUSER_EMAIL")
    @classmethod
    def _email(cls, value: str) -> str:
        # pydantic's validate_email is what EmailStr (the API's e-mail fields) runs.
        return validate_email(value)[1] if value else value

    @field_validator("BACKEND_CORS_ORIGINS", mode="before")
    @classmethod
    def _origin_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            return (
                json.loads(text) if text.startswith("[") else [part.strip() for part in text.split(",") if part.strip()]
            )
        return value

    @field_validator("BACKEND_CORS_ORIGINS")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        origins = [origin.rstrip("/") for origin in value]
        for origin in origins:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com or http://localhost:3000")
        if "*" in origins and len(origins) > 1:
            raise ValueError("`*` stands alone: list origins, or `*` for any origin without credentials")
        return origins

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _fill_data_paths(self) -> Settings:
        self.DATA_DIR = self.DATA_DIR.expanduser().resolve()
        if not self.DB_URL:
            self.DB_URL = f"sqlite:///{self.DATA_DIR / 'vcore.sqlite3'}"
        self.HUEY_DEFAULT_SQLITE_PATH = self.HUEY_DEFAULT_SQLITE_PATH or self.DATA_DIR / "huey_default.sqlite3"
        self.HUEY_RESERVED_SQLITE_PATH = self.HUEY_RESERVED_SQLITE_PATH or self.DATA_DIR / "huey_reserved.sqlite3"
        self.BASE_URL = (self.BASE_URL or local_url(self.SERVER_HOST, self.SERVER_PORT)).rstrip("/")
        return self

    @property
    def logs_dir(self) -> Path:
        return self.DATA_DIR / "logs"

    @property
    def job_logs_dir(self) -> Path:
        return self.DATA_DIR / "logs" / "jobs"

    @property
    def plugins_dir(self) -> Path:
        return self.DATA_DIR / "plugins"


def local_url(host: str, port: int) -> str:
    """The URL of the app on this machine: the default BASE_URL."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def settings_table() -> list[tuple[str, str, str, str]]:
    """(name, env var, default, help) for every setting: what `--help-settings` prints."""
    rows = []
    for name, field in Settings.model_fields.items():
        env = field.validation_alias if isinstance(field.validation_alias, str) else name
        if field.default_factory is not None:
            default = "platformdirs user data dir"
        elif isinstance(field.default, SecretStr) or field.default in (None, ""):
            default = "(derived)"
        else:
            default = str(field.default)
        rows.append((name, env, default, field.description or ""))
    return rows


def settings_files(data_dir: Path) -> tuple[Path, ...]:
    """The files settings are read from, lowest priority first."""
    return data_dir / SECRETS_FILE, data_dir / ".env", Path(".env")


def ignored_settings(data_dir: Path, environ: Mapping[str, str]) -> str | None:
    """One line naming what was given but is not a setting, with "did you mean" for near misses.

    Every key of the settings files counts; of the environment (which holds much else) only the
    seed's keys we do not implement and misspellings of ours in our own namespaces do.
    """
    known = set(Settings.model_fields) | {DATA_DIR_ENV}
    given = {key for path in settings_files(data_dir) if path.is_file() for key in dotenv_values(path)}
    given |= {key for key in environ if key in SEED_KEYS_IGNORED}
    prefixes = tuple({name.split("_")[0] + "_" for name in known})
    given |= {key for key in environ if key.startswith(prefixes) and _near(key.upper(), known)}
    notes = []
    for key in sorted(given):
        if key.upper() in known:
            continue
        near = _near(key.upper(), known)
        notes.append(f"{key} (did you mean {near}?)" if near else key)
    return f"ignored settings: {', '.join(notes)}; see README, Settings" if notes else None


def _near(key: str, known: set[str]) -> str | None:
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.85)
    return match[0] if match else None


def resolve_data_dir(flag: str | None) -> Path:
    """DATA_DIR comes first because the other settings files live in it."""
    value = flag or os.environ.get(DATA_DIR_ENV) or dotenv_values(".env").get(DATA_DIR_ENV)
    return Path(value).expanduser().resolve() if value else Path(platformdirs.user_data_dir(APP_NAME))


def prepare_data_dir(data_dir: Path) -> None:
    """Create the data folder and its sub-folders; fail with one line if it cannot be written."""
    try:
        for sub in ("", "logs", "logs/jobs", "backups"):
            (data_dir / sub).mkdir(parents=True, exist_ok=True)
        # plugins are code we run: only our own user may add or change them (plugins/manager.py)
        (data_dir / "plugins").mkdir(mode=0o700, exist_ok=True)
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as exc:
        raise SettingsError(
            f"{DATA_DIR_ENV}='{data_dir}': data folder is not writable ({exc.strerror or exc})"
        ) from None


def ensure_secrets(data_dir: Path) -> Path:
    """Generate the JWT keys into DATA_DIR/secrets.env (mode 0600) once; reuse them afterwards."""
    path = data_dir / SECRETS_FILE
    existing = {k: v for k, v in dotenv_values(path).items() if v} if path.exists() else {}
    missing = [name for name in GENERATED_SECRETS if name not in existing]
    if missing:
        existing.update({name: secrets.token_urlsafe(48) for name in missing})
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("# Generated by vcore-app on first start. Keep private; do not share.\n")
            fh.writelines(f"{name}={value}\n" for name, value in existing.items())
        os.replace(tmp, path)
    os.chmod(path, 0o600)
    return path


def load_settings(*, data_dir: str | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Build Settings for a run: data folder first, then every source in its order."""
    folder = resolve_data_dir(data_dir)
    prepare_data_dir(folder)
    ensure_secrets(folder)
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    try:
        return Settings(_env_file=settings_files(folder), DATA_DIR=folder, **given)
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem as one line: `NAME='value': what is wrong`; secret values are not echoed."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "settings"
    value = "***" if "SECRET" in name or "PASSWORD" in name else error.get("input")
    message = error["msg"].removeprefix("Value error, ")
    return f"{name}='{value}': {message}"
