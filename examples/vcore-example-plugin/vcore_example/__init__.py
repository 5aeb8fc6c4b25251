"""The example plugin of docs/plugins.md: one of each thing a plugin can add.

Copy this folder (`vcore_example/`) into DATA_DIR/plugins/, or `pip install` the project around it:
both load the same code. Every function marked `@hookimpl` is named after a hook of
vcore_app/plugins/hookspecs.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from vcore_app.plugins import NavItem, PluginSetting, hookimpl, restrict_to_env
from vcore_app.plugins.manager import setting_value
from vcore_app.scripts.base import Output, Script, ScriptContext
from vcore_app.tools import QuickTool, ToolFailed
from vcore_app.web.deps import actor, settings
from vcore_app.web.templating import render

HERE = Path(__file__).resolve().parent

# What the hooks saw, for the page and the API route below (one process, so module state will do).
EVENTS: dict[str, Any] = {"started_at": None, "finished_jobs": []}
_LOCK = threading.Lock()


# ---- a page and an API route -------------------------------------------------------------------


async def example_page(request: Request) -> Response:
    """Behind the login like every page; `actor(request)` is the user, `settings(request)` the settings."""
    greeting = setting_value(settings(request), "EXAMPLE_GREETING", "Hello")
    return render(
        request,
        "example/page.html",
        {"nav": "Example", "greeting": f"{greeting}, {actor(request).username}", "events": EVENTS},
    )


async def example_api(request: Request) -> JSONResponse:
    actor(request)
    with _LOCK:
        return JSONResponse({"started_at": EVENTS["started_at"], "finished_jobs": list(EVENTS["finished_jobs"])})


@hookimpl
def register_routes() -> list[BaseRoute]:
    return [
        Route("/example", example_page, methods=["GET"]),
        Route("/api/v1/example/events", example_api, methods=["GET"]),
    ]


@hookimpl
def register_nav_items() -> list[NavItem]:
    return [NavItem("Example", "/example")]


@hookimpl
def register_templates() -> list[Path]:
    return [HERE / "templates"]


@hookimpl
def register_static() -> list[tuple[str, Path]]:
    return [("example", HERE / "static")]  # served at /static/plugins/example/


# ---- a script with progress and a table result -------------------------------------------------


class Squares(Script):
    name = "example-squares"
    description = "Count up to N, reporting progress, and return a table of squares with a chart."

    class Input(Script.Input):
        n: int = Field(5, ge=1, le=1000, description="How many rows")
        pause: float = Field(0.0, ge=0, le=5, description="Seconds to wait per row (to watch the progress bar)")

    def run(self, input: Any, ctx: ScriptContext) -> Output:
        rows = []
        for i in range(1, input.n + 1):
            time.sleep(input.pause)
            rows.append({"n": i, "square": i * i})
            ctx.progress(100 * i / input.n, f"row {i} of {input.n}")
        return Output(records=rows, series=["square"], x="n")


@hookimpl
def register_scripts() -> list[type[Script]]:
    return [Squares]


# ---- a Quick Tool with its own template, and one only for production --------------------------


class WordCount(QuickTool):
    name = "example-word-count"
    title = "Word count"
    description = "Count the words and lines of a text (the example plugin's Quick Tool)."
    template = "example/word_count.html"

    class Input(BaseModel):
        text: str = Field(max_length=100_000, description="The text to count")

    def run(self, data: Any) -> Any:
        if not data.text.strip():
            raise ToolFailed("There is nothing to count.", field="text")
        return {"words": len(data.text.split()), "lines": len(data.text.splitlines())}


@restrict_to_env("production")
class ProductionOnly(QuickTool):
    name = "example-production-only"
    title = "Production only"
    description = "Offered only where ENV_NAME is production."

    def run(self, data: Any) -> Any:
        return "production"


@hookimpl
def register_quick_tools() -> list[type[QuickTool]]:
    return [WordCount, ProductionOnly]


# ---- hooks around the app and its jobs ---------------------------------------------------------


@hookimpl
def on_startup(settings: Any) -> None:
    EVENTS["started_at"] = time.time()


@hookimpl
def on_job_finished(job: Any) -> None:
    with _LOCK:
        EVENTS["finished_jobs"].append({"id": job.id, "status": str(job.status)})


@hookimpl
def prepare_job(spec: Any) -> str | None:
    if spec.name.startswith("forbidden"):
        return "job names starting with 'forbidden' are not allowed"
    return None


@hookimpl
def extra_settings() -> list[PluginSetting]:
    return [PluginSetting("EXAMPLE_GREETING", "Hello", "How the example page greets the user.")]


@click.command("example-hello")
@click.argument("name", default="world")
def hello(name: str) -> None:
    """Say hello (a command added by the example plugin)."""
    click.echo(f"hello, {name}")


@hookimpl
def register_commands() -> list[click.Command]:
    return [hello]
