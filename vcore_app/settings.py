"""Settings: one table of name, default and help, read from (highest first) CLI flags, the
environment, `./.env`, `DATA_DIR/.env`, the generated `DATA_DIR/secrets.env`, then defaults.

Nothing is required: an appliance starts with no configuration. Defaults that are paths point
inside the data folder; they are filled in once DATA_DIR is known.
"""

from __future__ import annotations

import difflib
import importlib.util
import ipaddress
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
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
    validate_email,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

APP_NAME = "vcore-app"
DATA_DIR_ENV = "VCORE_DATA_DIR"
SECRETS_FILE = "secrets.env"
GENERATED_SECRETS = ("JWT_ACCESS_SECRET_KEY", "JWT_REFRESH_SECRET_KEY")
# What a job or scheduler can be notified about (vcore_app/notify/rules.py); here so NOTIFY_EVENTS
# is checked when the settings load.
NOTIFY_RULE_EVENTS = ("failed", "succeeded", "recovered", "missed", "long_running")
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


QUEUE_NAMES = ("default", "reserved")  # each has its WORKERS_* and storage setting


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
    DB_URL: str = Field(
        "",
        description="SQLAlchemy URL of the app database (default: DATA_DIR/vcore.sqlite3), or a PostgreSQL "
        "database for several nodes: postgresql://user:password@host:5432/name (needs the `cluster` extra).",
    )
    DATABASE_ECHO: bool = Field(False, description="Log every SQL statement (very noisy).")
    DB_POOL_SIZE: int = Field(
        10, ge=1, le=1000, description="PostgreSQL: connections each process keeps open (SQLite sizes its own pool)."
    )
    DB_MAX_OVERFLOW: int = Field(
        20, ge=0, le=1000, description="PostgreSQL: connections opened beyond DB_POOL_SIZE at busy times, then closed."
    )
    DB_POOL_TIMEOUT: float = Field(
        30.0, gt=0, le=600, description="PostgreSQL: seconds a request waits for a free connection before it fails."
    )
    SQLITE_SYNCHRONOUS: Literal["NORMAL", "FULL"] = Field(
        "NORMAL",
        description="SQLite's synchronous mode on every connection. NORMAL: a crash of the app loses nothing "
        "committed, a power loss may lose the last commits (never corrupts). FULL: also a power loss keeps "
        "every acknowledged commit, at a sync per commit.",
    )
    DISK_LOW_WARNING_MB: float = Field(
        200, ge=0, description="Below this much free space on the data disk, /healthz and the dashboard warn."
    )
    DISK_MIN_FREE_MB: float = Field(
        5,
        ge=0,
        description="Below this much free space (or when a write finds the disk full) new jobs get a 507, the "
        "queues take no new jobs (running ones finish) and /readyz answers 503, until space returns.",
    )
    SERVER_HOST: str = Field("127.0.0.1", description="Address to listen on (--host); 0.0.0.0 exposes it.")
    SERVER_PORT: int = Field(5000, ge=1, le=65535, description="TCP port to listen on (--port).")
    BASE_URL: str = Field(
        "", description="Public URL of the app, used in links and mails (default: from host and port)."
    )
    TLS_CERT_FILE: Path | None = Field(
        None, description="PEM certificate (chain) to serve HTTPS directly; with TLS_KEY_FILE. Then HSTS is sent."
    )
    TLS_KEY_FILE: Path | None = Field(None, description="PEM private key of TLS_CERT_FILE.")
    FORWARDED_ALLOW_IPS: str = Field(
        "",
        description="Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For/-Proto "
        "headers are trusted (default: none; `*` trusts anyone). See packaging/README.md.",
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
    QUEUE_URL: str = Field(
        "",
        description="redis://host:port/db puts both queues, live updates and kill requests on Redis, so "
        "worker nodes (`vcore-app worker`) and several web nodes can share them (packaging/README.md, "
        '"When one box is not enough"). Empty: the queues stay in SQLite, in this process.',
    )
    WORKER_DEAD_AFTER_SECONDS: float = Field(
        30,
        ge=3,
        le=3600,
        description="With QUEUE_URL: a node that has not sent its heartbeat for this long is lost; its running "
        'jobs are queued again while attempts remain, else failed "worker lost".',
    )
    SCHEDULER_FAILOVER_SECONDS: float = Field(
        30,
        ge=3,
        le=3600,
        description="With QUEUE_URL: one web node fires the schedulers (a lease in the database); if it dies, "
        "another takes over within this many seconds.",
    )
    SHUTDOWN_TIMEOUT: float = Field(
        5.0, ge=0, le=60, description="Seconds running jobs get to finish at shutdown before they are terminated."
    )
    JOB_LOG_MAX_BYTES: int = Field(
        10_000_000,
        ge=1_000_000,
        description="Cap of one job's log file; over it, the head and the tail are kept with a marker line between.",
    )
    JOB_LOG_WRITE_FAILURE: Literal["continue", "fail"] = Field(
        "continue",
        description="When a job's log cannot be written because the data disk is full: `continue` runs the job "
        "on (the lost lines are replaced by one line saying how many); `fail` ends its processes, as a kill "
        'does, and fails it "its log could not be written: the data disk is full".',
    )
    # -- issue 17 (operations) --
    JOB_RETENTION_DAYS: int = Field(
        90,
        ge=1,
        description="Finished jobs and their logs older than this are removed (housekeeping, at start and daily).",
    )
    JOB_RETENTION_MAX_ROWS: int = Field(
        1_000_000, ge=0, description="Most jobs kept; past it the oldest finished ones are removed (0: no limit)."
    )
    JOB_LOGS_MAX_TOTAL_MB: int = Field(
        2048, ge=1, description="Most disk the job logs may take; past it the oldest finished jobs' logs are removed."
    )
    AUDIT_RETENTION_DAYS: int = Field(
        365, ge=1, description="Audit log rows older than this are removed (housekeeping)."
    )
    BACKUP_KEEP: int = Field(
        7, ge=1, le=1000, description="How many backup archives DATA_DIR/backups keeps; older ones are removed."
    )
    METRICS_TOKEN: SecretStr = Field(
        SecretStr(""),
        description="Bearer token for /metrics from other machines (loopback needs none; empty: loopback only).",
    )
    API_POST_DENY_NETWORKS: str = Field(
        "169.254.0.0/16,fe80::/10,fd00:ec2::254/128",
        description="Comma-separated networks api_post jobs may not reach (cloud metadata, link-local), checked "
        "for every address a host name resolves to and on every connection; empty allows all.",
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
    NOTIFY_EMAIL_ENABLED: bool = Field(
        False, description="Send notifications by mail to NOTIFY_EMAIL_TO through SMTP_*."
    )
    NOTIFY_EMAIL_TO: str = Field("", description="Address (or comma-separated addresses) that gets notification mails.")
    NOTIFY_TELEGRAM_ENABLED: bool = Field(
        False, description="Send notifications to TELEGRAM_CHAT_ID through the Telegram bot TELEGRAM_API_TOKEN."
    )
    TELEGRAM_API_TOKEN: SecretStr = Field(
        SecretStr(""), description="Telegram bot token (from @BotFather); never logged or shown."
    )
    TELEGRAM_CHAT_ID: int = Field(0, description="Telegram chat that gets notifications (negative for groups).")
    TELEGRAM_API_URL: str = Field(
        "https://api.telegram.org", description="Base URL of the Telegram Bot API (a local server in tests)."
    )
    NOTIFY_WEBHOOK_URL: str = Field("", description="POST a JSON notification to this URL (empty: no webhook).")
    NOTIFY_WEBHOOK_SECRET: SecretStr = Field(
        SecretStr(""), description="Key signing webhook bodies (HMAC-SHA256 in X-Vcore-Signature); empty: unsigned."
    )
    NOTIFY_URLS: SecretStr = Field(
        SecretStr(""),
        description=(
            "Apprise URLs (Slack, Discord, ntfy, Gotify, Matrix, ...), comma-separated;"
            " they hold tokens, so never shown."
        ),
    )
    NOTIFY_ON_START: bool = Field(False, description="Notify every channel when the app has started.")
    NOTIFY_EVENTS: str = Field(
        "failed,recovered,missed,long_running",
        description=(
            "Events notified unless a job or scheduler says otherwise:"
            " failed, succeeded, recovered, missed, long_running."
        ),
    )
    NOTIFY_BURST: int = Field(
        3,
        ge=1,
        le=100,
        description="Storm control: messages per channel and group (event + scheduler) per window before a digest.",
    )
    NOTIFY_DIGEST_WINDOW_SECONDS: float = Field(
        60.0,
        ge=1,
        le=86400,
        description="Storm control: notifications over NOTIFY_BURST within this window go out as one digest.",
    )
    NOTIFY_MAX_ATTEMPTS: int = Field(
        6, ge=1, le=50, description="Attempts to deliver one notification before it is marked failed."
    )
    NOTIFY_RETRY_BASE_SECONDS: float = Field(
        5.0,
        ge=0.05,
        le=3600,
        description="First retry delay of a notification; it doubles per attempt (capped at one hour).",
    )
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
    # -- LLM helpers (vcore_app/llm/); names of the keys as the seed has them ---------------------
    OPENAI_API_KEY: SecretStr = Field(SecretStr(""), description="OpenAI API key (provider `openai`).")
    ANTHROPIC_API_KEY: SecretStr = Field(SecretStr(""), description="Anthropic API key (provider `anthropic`).")
    GOOGLE_API_KEY: SecretStr = Field(SecretStr(""), description="Google Gemini API key (provider `google`).")
    GROQ_API_KEY: SecretStr = Field(SecretStr(""), description="Groq API key (provider `groq`).")
    PHI_API_KEY: SecretStr = Field(
        SecretStr(""), description="Phi (phidata) key from the seed; no built-in provider uses it, plugins may read it."
    )
    LLM_LOCAL_API_KEY: SecretStr = Field(
        SecretStr(""), description="Key of the OpenAI-compatible local server (provider `local`), if it wants one."
    )
    OPENAI_BASE_URL: str = Field("https://api.openai.com/v1", description="OpenAI API base URL (chat completions).")
    ANTHROPIC_BASE_URL: str = Field("https://api.anthropic.com", description="Anthropic API base URL (messages).")
    GOOGLE_BASE_URL: str = Field(
        "https://generativelanguage.googleapis.com/v1beta/openai", description="Gemini's OpenAI-compatible base URL."
    )
    GROQ_BASE_URL: str = Field("https://api.groq.com/openai/v1", description="Groq's OpenAI-compatible base URL.")
    LLM_LOCAL_BASE_URL: str = Field(
        "",
        description="Base URL of an OpenAI-compatible local server (provider `local`): Ollama's is "
        "http://127.0.0.1:11434/v1; LM Studio, vLLM. Empty: no local provider.",
    )
    LLM_DEFAULT_PROVIDER: Literal["openai", "anthropic", "google", "groq", "local"] = Field(
        "openai", description="Provider used when a call names none (and for 'explain this failure')."
    )
    LLM_DEFAULT_MODEL: str = Field(
        "", description="Model of the default provider when a call names none (empty: that provider's usual model)."
    )
    LLM_TIMEOUT_SECONDS: float = Field(
        60.0, gt=0, le=600, description="Seconds an LLM call may wait for the next bytes."
    )
    LLM_MAX_RETRIES: int = Field(2, ge=0, le=10, description="Retries of an LLM call after a 429 or a 5xx answer.")
    LLM_MAX_RETRY_WAIT_SECONDS: float = Field(
        30.0, ge=0, le=600, description="Longest wait before one retry; a longer Retry-After fails the call at once."
    )
    LLM_EXPLAIN_LOG_BYTES: int = Field(
        8000, ge=500, le=200_000, description="How much of the end of a job's log 'explain this failure' sends."
    )
    NOTIFY_LLM_SUMMARY: bool = Field(
        False, description="Add an LLM summary of the failure to failure notifications (default provider)."
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

    @field_validator("API_POST_DENY_NETWORKS", "FORWARDED_ALLOW_IPS")
    @classmethod
    def _networks(cls, value: str, info: ValidationInfo) -> str:
        for item in split_list(value):
            if item == "*" and info.field_name == "FORWARDED_ALLOW_IPS":
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"'{item}' is not an IP address or network (e.g. 10.0.0.1, 192.168.0.0/16)") from None
        return ",".join(split_list(value))

    @field_validator("TLS_CERT_FILE", "TLS_KEY_FILE")
    @classmethod
    def _readable_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError("no such file")
        if (
            info.field_name == "TLS_KEY_FILE"
            and "TLS_CERT_FILE" in info.data
            and (value is None) != (info.data["TLS_CERT_FILE"] is None)
        ):
            raise ValueError("set both TLS_CERT_FILE and TLS_KEY_FILE, or neither")
        return value.expanduser().resolve() if value is not None else None

    @field_validator("NOTIFY_EVENTS")
    @classmethod
    def _known_events(cls, value: str) -> str:
        unknown = [name for name in split_list(value) if name not in NOTIFY_RULE_EVENTS]
        if unknown:
            raise ValueError(f"unknown event {unknown[0]!r} (choose from {', '.join(NOTIFY_RULE_EVENTS)})")
        return value

    @field_validator("TELEGRAM_API_URL", "NOTIFY_WEBHOOK_URL")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not re.match(r"https?://[^/\s]+", value):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/") if value else value

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

    @field_validator("DB_URL")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return database_url(value) if value else value

    @field_validator("LOG_LEVEL", "SQLITE_SYNCHRONOUS", mode="before")
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
        self.BASE_URL = (self.BASE_URL or local_url(self.SERVER_HOST, self.SERVER_PORT, tls=self.tls)).rstrip("/")
        return self

    @property
    def tls(self) -> bool:
        """Whether the app serves HTTPS itself (TLS_CERT_FILE and TLS_KEY_FILE)."""
        return self.TLS_CERT_FILE is not None

    @property
    def api_post_deny(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(item, strict=False) for item in split_list(self.API_POST_DENY_NETWORKS)]

    @property
    def logs_dir(self) -> Path:
        return self.DATA_DIR / "logs"

    @property
    def job_logs_dir(self) -> Path:
        return self.DATA_DIR / "logs" / "jobs"

    @property
    def log_mirror_dir(self) -> Path:
        """With worker nodes: copies of job logs read from the database (cluster/logship.py)."""
        return self.DATA_DIR / "logs" / "mirror"

    @property
    def plugins_dir(self) -> Path:
        return self.DATA_DIR / "plugins"

    @property
    def backups_dir(self) -> Path:
        return self.DATA_DIR / "backups"


def database_url(url: str) -> str:
    """A database URL the app can open, as SQLAlchemy wants it: `postgresql://` means psycopg 3 (the
    driver of the `cluster` extra), not SQLAlchemy's default psycopg2. ValueError says what is wrong."""
    scheme, sep, rest = url.partition("://")
    if not sep or not rest:
        raise ValueError("expected a URL like sqlite:////path/vcore.sqlite3 or postgresql://user@host/name")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        if importlib.util.find_spec("psycopg") is None:  # the binary leaves it out (vcore.spec)
            raise ValueError("PostgreSQL needs its driver: pip install 'vcore-app[cluster]'")
        return f"postgresql+psycopg://{rest}"
    if scheme == "sqlite":
        return url
    raise ValueError(f"unsupported database {scheme!r} (use sqlite or postgresql)")


def split_list(value: str) -> list[str]:
    """A comma-separated setting as its non-empty items."""
    return [item.strip() for item in value.split(",") if item.strip()]


def local_url(host: str, port: int, *, tls: bool = False) -> str:
    """The URL of the app on this machine: the default BASE_URL."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"{'https' if tls else 'http'}://{host}:{port}"


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
        for sub in ("", "logs", "logs/jobs", "plugins", "backups"):
            (data_dir / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
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
    secret = any(word in name for word in ("SECRET", "PASSWORD", "TOKEN")) or name.endswith("_KEY")
    value = "***" if secret else error.get("input")
    message = error["msg"].removeprefix("Value error, ")
    return f"{name}='{value}': {message}"
