"""Every hook a plugin can implement: its name, its arguments and what it is for.

A plugin implements any subset, each as a function of the same name marked `@hookimpl` (from
`vcore_app.plugins`); it may take fewer arguments than the spec names. Collection hooks
(`register_*`, `extra_settings`) return a list; each plugin's answer is used on its own, so one that
raises is reported on the Plugins page and the others still count.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from vcore_app.plugins import PROJECT

if TYPE_CHECKING:
    import click
    from starlette.routing import BaseRoute

    from vcore_app.jobs.spec import JobSpec
    from vcore_app.models import Job
    from vcore_app.plugins import NavItem, PluginSetting
    from vcore_app.scripts.base import Script
    from vcore_app.settings import Settings
    from vcore_app.tools import QuickTool

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def register_scripts() -> list[type[Script]]:
    """Script classes to offer as script jobs (`vcore_app.scripts.base.Script` subclasses)."""
    raise NotImplementedError


@hookspec
def register_quick_tools() -> list[type[QuickTool]]:
    """Quick Tool classes (`vcore_app.tools.QuickTool` subclasses): a page at /tools/<name> and
    `POST /api/v1/tools/<name>`."""
    raise NotImplementedError


@hookspec
def register_routes() -> list[BaseRoute]:
    """Starlette routes (pages and API). They sit behind the same login gate and CSRF check as ours:
    every one needs an authenticated user; a path our public list covers is refused. Handlers reach
    the app through `vcore_app.web.deps` like ours do."""
    raise NotImplementedError


@hookspec
def register_templates() -> list[Path]:
    """Template folders searched before ours: a template of the same name replaces ours."""
    raise NotImplementedError


@hookspec
def register_static() -> list[tuple[str, Path]]:
    """`(name, folder)` pairs: the folder is served at /static/plugins/<name>/ (no login needed)."""
    raise NotImplementedError


@hookspec
def register_nav_items() -> list[NavItem]:
    """Links for the navigation bar (`vcore_app.plugins.NavItem`)."""
    raise NotImplementedError


@hookspec
def register_notification_channels() -> list[type[Any]]:
    """Notification channel classes, for the notifications subsystem once it exists; collected and
    listed now so a plugin written today keeps working."""
    raise NotImplementedError


@hookspec
def register_commands() -> list[click.Command]:
    """click commands added to the `vcore-app` command line."""
    raise NotImplementedError


@hookspec
def extra_settings() -> list[PluginSetting]:
    """The plugin's own settings (`vcore_app.plugins.PluginSetting`), printed by `--help-settings`;
    read them with `vcore_app.plugins.manager.setting_value`."""
    raise NotImplementedError


@hookspec
def on_startup(settings: Settings, runtime: Any) -> None:
    """Called once the runtime has started (database migrated, queues and scheduler running), and
    for the data-folder plugins again after a reload. `runtime` is `vcore_app.runtime.Runtime`."""


@hookspec
def on_shutdown(settings: Settings, runtime: Any) -> None:
    """Called before the runtime stops (and for data-folder plugins before a reload)."""


@hookspec
def on_job_finished(job: Job) -> None:
    """A job reached done, failed or cancelled (called after the commit, on the thread that made
    the change: keep it quick, or hand the work to a thread of your own)."""


@hookspec
def prepare_job(spec: JobSpec) -> str | None:
    """Called before a job is created: return a sentence to refuse it (the caller gets a 422 with
    it), or None to let it through."""
    raise NotImplementedError
