"""Render a delivery's payload into a Message for every channel format (assets/templates/notify/).

Mail HTML and Telegram's HTML subset are autoescaped (a job name or a log line like `<script>` comes
out as text); the plain-text parts are not escaped because nothing interprets them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from vcore_app.notify.channels import TELEGRAM_MAX_CHARS, Message
from vcore_app.paths import assets_dir
from vcore_app.settings import Settings


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(assets_dir() / "templates" / "notify"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render_message(*, delivery_id: int, event: str, payload: dict[str, Any], settings: Settings) -> Message:
    env = _environment()
    context = {
        "project_name": settings.PROJECT_NAME,
        "job": None,
        "scheduler": None,
        "detail": "",
        "summary": "",
        "items": [],
        "count": 0,
        "log_tail": [],
        "url": "",
        **payload,
    }
    subject = env.get_template("subject.txt").render(context).strip().replace("\n", " ")[:250]
    data = {
        key: payload.get(key)
        for key in ("title", "job", "scheduler", "url", "detail", "summary", "items", "count")
        if payload.get(key) is not None
    }
    return Message(
        delivery_id=delivery_id,
        event=event,
        subject=subject,
        text=env.get_template("body.txt").render(context).strip() + "\n",
        html=env.get_template("body.html").render(context),
        telegram_html=_telegram_html(env, context),
        data=data,
    )


def _telegram_html(env: Environment, context: dict[str, Any]) -> str:
    """Telegram refuses a message over 4096 characters, and cutting HTML can break a tag: drop log
    lines (oldest first) until it fits, then the log, then shorten the error."""
    template = env.get_template("telegram.html")
    tail = list(context["log_tail"])
    for keep in range(len(tail), -1, -1):
        text = template.render({**context, "log_tail": tail[len(tail) - keep :]}).strip()
        if len(text) <= TELEGRAM_MAX_CHARS:
            return text
    job = context.get("job") or {}
    short = {
        **context,
        "log_tail": [],
        "detail": str(context.get("detail", ""))[:500],
        "summary": str(context.get("summary", ""))[:500],
        "job": {**job, "error": str(job.get("error") or "")[:500]} if job else None,
    }
    return template.render(short).strip()
