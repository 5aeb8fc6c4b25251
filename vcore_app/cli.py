"""The command line: `vcore-app [serve] [OPTIONS]`, `db ...`. It builds Settings, then the app.

User mistakes are one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from vcore_app import __version__
from vcore_app.settings import Settings, SettingsError, load_settings, settings_table


class _DefaultToServe(click.Group):
    """`vcore-app --port 5000` means `vcore-app serve --port 5000`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        group_flags = {"--help", "-h", "--version", "--help-settings"}
        if not args or (args[0] not in self.commands and args[0] not in group_flags):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def build_settings(data_dir: str | None = None, **overrides: Any) -> Settings:
    try:
        return load_settings(data_dir=data_dir, overrides=overrides)
    except SettingsError as exc:
        fail(str(exc))
        raise  # unreachable; keeps type checkers calm


def _print_settings(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    for name, env, default, help_text in settings_table():
        click.echo(f"{name}\n    env {env}, default {default}\n    {help_text}")
    ctx.exit()


data_dir_option = click.option(
    "--data-dir", metavar="DIR", help="Data folder (env VCORE_DATA_DIR; default: the platform's user data dir)."
)


@click.group(cls=_DefaultToServe, context_settings={"help_option_names": ["--help", "-h"]})
@click.version_option(__version__, "--version", prog_name="vcore-app", message="%(prog)s %(version)s")
@click.option("--help-settings", is_flag=True, expose_value=False, is_eager=True, callback=_print_settings,
              help="List every setting with its env var, default and help, then exit.")
def cli() -> None:
    """vcore-app: a self-hosted job runner. With no command, `serve` runs."""


@cli.command()
@click.option("--host", metavar="ADDR", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", metavar="PORT", help="Port to listen on (default 5000).")
@data_dir_option
@click.option("--open-browser/--no-browser", default=None, help="Open a browser at the app once it listens.")
@click.option("--workers-default", metavar="N", help="Worker threads of the `default` queue.")
@click.option("--workers-reserved", metavar="N", help="Worker threads of the `reserved` queue.")
def serve(host: str | None, port: str | None, data_dir: str | None, open_browser: bool | None,
          workers_default: str | None, workers_reserved: str | None) -> None:
    """Start the web server, the queue workers and the scheduler in this process."""
    settings = build_settings(data_dir, SERVER_HOST=host, SERVER_PORT=port, OPEN_BROWSER=open_browser,
                              WORKERS_DEFAULT=workers_default, WORKERS_RESERVED=workers_reserved)
    from vcore_app.launcher import serve as run_server

    try:
        run_server(settings)
    except SettingsError as exc:
        fail(str(exc))


@cli.group()
def db() -> None:
    """Database migrations (they also run by themselves at start)."""


def _alembic(data_dir: str | None) -> Any:
    from vcore_app.db import alembic_config

    return alembic_config(build_settings(data_dir).DB_URL)


@db.command()
@data_dir_option
@click.argument("revision", default="head")
def upgrade(data_dir: str | None, revision: str) -> None:
    """Upgrade the database to REVISION (default head)."""
    from alembic import command

    command.upgrade(_alembic(data_dir), revision)


@db.command()
@data_dir_option
@click.argument("revision", default="-1")
def downgrade(data_dir: str | None, revision: str) -> None:
    """Downgrade the database to REVISION (default: one step back; `base` for empty)."""
    from alembic import command

    command.downgrade(_alembic(data_dir), revision)


@db.command()
@data_dir_option
def current(data_dir: str | None) -> None:
    """Print the revision the database is at."""
    from alembic import command

    command.current(_alembic(data_dir))


@db.command()
@data_dir_option
def history(data_dir: str | None) -> None:
    """List the migrations, newest first."""
    from alembic import command

    command.history(_alembic(data_dir))


@cli.group()
def script() -> None:
    """Scripts: list them, or run one (also how script jobs run, as a child process)."""


@script.command("list")
@data_dir_option
def script_list(data_dir: str | None) -> None:
    """List the built-in and plugin scripts."""
    from vcore_app.scripts.registry import ScriptRegistry
    from vcore_app.settings import resolve_data_dir

    for entry in ScriptRegistry.load(resolve_data_dir(data_dir) / "plugins").describe():
        click.echo(f"{entry['name']}\n    {entry['description']}")


@script.command("run")
@click.argument("name")
@data_dir_option
@click.option("--result-file", metavar="PATH", help="Write the outcome as JSON here instead of printing it last.")
def script_run(name: str, data_dir: str | None, result_file: str | None) -> None:
    """Run script NAME with its input as JSON on stdin; print output, then the outcome as JSON."""
    from pathlib import Path

    from vcore_app.scripts.child import run_script
    from vcore_app.settings import resolve_data_dir

    sys.exit(run_script(name, plugins_dir=resolve_data_dir(data_dir) / "plugins", stdin=sys.stdin,
                        result_file=Path(result_file) if result_file else None))


def main() -> None:
    cli(prog_name="vcore-app")
