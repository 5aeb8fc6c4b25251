"""The command line: `vcore-app [serve] [OPTIONS]`, `db ...`, `users ...`. It builds Settings, then the app.

User mistakes are one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import click

from vcore_app import __version__
from vcore_app.paths import restore_frozen_environ
from vcore_app.private import restrict_umask, user_umask
from vcore_app.settings import QUEUE_NAMES, Settings, SettingsError, load_settings, settings_table

if TYPE_CHECKING:
    from alembic.config import Config


class _DefaultToServe(click.Group):
    """`vcore-app --port 5000` means `vcore-app serve --port 5000`. Commands of plugins
    (`register_commands`) are looked up only for a name that is none of ours."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        group_flags = {"--help", "-h", "--version", "--help-settings"}
        if not args or (
            args[0] not in self.commands
            and args[0] not in group_flags
            and (args[0].startswith("-") or args[0] not in _plugin_commands())
        ):
            args = ["serve", *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or _plugin_commands().get(cmd_name)


_loaded_plugins: list[Any] = []


def _cli_plugins() -> Any:
    """The plugins of the data folder named by VCORE_DATA_DIR (the --data-dir flag is not parsed yet
    when the command line is built), loaded quietly once per CLI run."""
    if not _loaded_plugins:
        from vcore_app.plugins.manager import Plugins
        from vcore_app.settings import resolve_data_dir

        _loaded_plugins.append(Plugins(plugins_dir=resolve_data_dir(None) / "plugins", env_name=None, quiet=True))
    return _loaded_plugins[0]


def _plugin_commands() -> dict[str, click.Command]:
    return {
        command.name: command
        for command in _cli_plugins().items("register_commands")
        if isinstance(command, click.Command) and command.name
    }


def fail(message: str) -> NoReturn:
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
    for record, setting in _cli_plugins().entries("extra_settings"):  # plugins' own settings
        click.echo(
            f"{setting.name}\n    env {setting.name}, default {setting.default or '(empty)'}"
            f" (plugin {record.name})\n    {setting.help}"
        )
    ctx.exit()


data_dir_option = click.option(
    "--data-dir", metavar="DIR", help="Data folder (env VCORE_DATA_DIR; default: the platform's user data dir)."
)


@click.group(cls=_DefaultToServe, context_settings={"help_option_names": ["--help", "-h"]})
@click.version_option(__version__, "--version", prog_name="vcore-app", message="%(prog)s %(version)s")
@click.option(
    "--help-settings",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_settings,
    help="List every setting with its env var, default and help, then exit.",
)
def cli() -> None:
    """vcore-app: a self-hosted job runner. With no command, `serve` runs."""


@cli.command()
@click.option("--host", metavar="ADDR", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", metavar="PORT", help="Port to listen on (default 5000).")
@data_dir_option
@click.option("--open-browser/--no-browser", default=None, help="Open a browser at the app once it listens.")
@click.option("--workers-default", metavar="N", help="Worker threads of the `default` queue.")
@click.option("--workers-reserved", metavar="N", help="Worker threads of the `reserved` queue.")
@click.option(
    "--no-workers",
    is_flag=True,
    help="A web node: run no queue workers here (worker nodes run the jobs; needs QUEUE_URL).",
)
def serve(
    host: str | None,
    port: str | None,
    data_dir: str | None,
    open_browser: bool | None,
    workers_default: str | None,
    workers_reserved: str | None,
    no_workers: bool,
) -> None:
    """Start the web server, the queue workers and the scheduler in this process."""
    from vcore_app.launcher import launched_by_double_click
    from vcore_app.launcher import serve as run_server

    if open_browser is None and launched_by_double_click(sys.argv[1:]):
        open_browser = True
    settings = build_settings(
        data_dir,
        SERVER_HOST=host,
        SERVER_PORT=port,
        OPEN_BROWSER=open_browser,
        WORKERS_DEFAULT=workers_default,
        WORKERS_RESERVED=workers_reserved,
    )
    if no_workers and not settings.QUEUE_URL:
        fail("--no-workers needs QUEUE_URL (redis://...): without it no other process can run this node's jobs")
    try:
        run_server(settings, workers=not no_workers)
    except SettingsError as exc:
        fail(str(exc))


@cli.command()
@click.option(
    "--queue",
    "queues",
    multiple=True,
    type=click.Choice(QUEUE_NAMES),
    help="A queue to take jobs from; repeat for both (default: both).",
)
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Worker threads per queue (default: WORKERS_DEFAULT/_RESERVED)."
)
@data_dir_option
def worker(queues: tuple[str, ...], workers: int | None, data_dir: str | None) -> None:
    """A worker node: run jobs from the Redis queues (QUEUE_URL) and the shared database (DB_URL),
    with no web server. See "When one box is not enough" in packaging/README.md."""
    from vcore_app.instance import AlreadyRunning
    from vcore_app.launcher import run_worker

    settings = build_settings(data_dir)
    if not settings.QUEUE_URL:
        fail(
            "vcore-app worker needs QUEUE_URL (redis://...) and a shared DB_URL: "
            "without them the queues live in one process"
        )
    try:
        run_worker(settings, queues=queues or QUEUE_NAMES, workers=workers)
    except SettingsError as exc:
        fail(str(exc))
    except AlreadyRunning as running:
        fail(
            f"another vcore-app (pid {running.holder.pid}) uses the data folder {settings.DATA_DIR}; "
            "give each node its own --data-dir"
        )


@cli.group()
def db() -> None:
    """Database migrations (they also run by themselves at start)."""


def _alembic(data_dir: str | None, action: Callable[[Config], object]) -> None:
    """`action` on the alembic configuration of the app database (a server out of reach: one line)."""
    from vcore_app import db

    url = build_settings(data_dir).DB_URL
    with db.reaching(url):
        action(db.alembic_config(url))


@db.command()
@data_dir_option
@click.argument("revision", default="head")
def upgrade(data_dir: str | None, revision: str) -> None:
    """Upgrade the database to REVISION (default head)."""
    from alembic import command

    _alembic(data_dir, lambda cfg: command.upgrade(cfg, revision))


@db.command()
@data_dir_option
@click.argument("revision", default="-1")
def downgrade(data_dir: str | None, revision: str) -> None:
    """Downgrade the database to REVISION (default: one step back; `base` for empty)."""
    from alembic import command

    _alembic(data_dir, lambda cfg: command.downgrade(cfg, revision))


@db.command()
@data_dir_option
def current(data_dir: str | None) -> None:
    """Print the revision the database is at."""
    from alembic import command

    _alembic(data_dir, command.current)


@db.command()
@data_dir_option
def history(data_dir: str | None) -> None:
    """List the migrations, newest first."""
    from alembic import command

    _alembic(data_dir, command.history)


@db.command()
@data_dir_option
@click.option("-m", "--message", required=True, help="What the migration changes (names the file).")
@click.option(
    "--autogenerate/--empty",
    default=True,
    help="Compare the models with the database (at head) and write the difference (default).",
)
def revision(data_dir: str | None, message: str, autogenerate: bool) -> None:
    """Write a new migration into the migrations folder, numbered after the head."""
    from alembic import command

    def write(cfg: Config) -> None:
        script = command.revision(cfg, message=message, autogenerate=autogenerate)
        if script is not None and not isinstance(script, list):
            click.echo(f"wrote {script.path}")

    _alembic(data_dir, write)


@db.command("copy")
@data_dir_option
@click.option(
    "--to", "to", required=True, metavar="URL", help="An empty PostgreSQL database: postgresql://user@host/name."
)
def copy_db(data_dir: str | None, to: str) -> None:
    """Copy this installation's database (DB_URL) into an empty PostgreSQL database, to move to it.
    Stop the app first; then set DB_URL to the new database."""
    from vcore_app import db_copy

    settings = build_settings(data_dir)
    try:
        copied = db_copy.copy_database(settings=settings, to=to)
    except db_copy.CopyError as exc:
        fail(str(exc))
    width = max(len(name) for name in copied.rows)
    for name, count in copied.rows.items():
        click.echo(f"{name.ljust(width)}  {count:>9} rows")
    click.echo(f"copied {sum(copied.rows.values())} rows into {copied.target}; set DB_URL to it to use it")


@cli.group()
def script() -> None:
    """Scripts: list them, or run one (also how script jobs run, as a child process)."""


@script.command("list")
@data_dir_option
def script_list(data_dir: str | None) -> None:
    """List the built-in and plugin scripts."""
    from vcore_app.plugins.manager import script_registry
    from vcore_app.settings import resolve_data_dir

    for entry in script_registry(resolve_data_dir(data_dir) / "plugins").describe():
        click.echo(f"{entry['name']}\n    {entry['description']}")


@script.command("run")
@click.argument("name")
@data_dir_option
@click.option("--result-file", metavar="PATH", help="Write the outcome as JSON here instead of printing it last.")
def script_run(name: str, data_dir: str | None, result_file: str | None) -> None:
    """Run script NAME with its input as JSON on stdin; print output, then the outcome as JSON."""
    import os
    from pathlib import Path

    os.umask(user_umask())  # a job's files follow the user's umask, like a command job's (private.py)

    from vcore_app.scripts.child import run_script
    from vcore_app.settings import resolve_data_dir

    folder = resolve_data_dir(data_dir)
    sys.exit(
        run_script(
            name,
            plugins_dir=folder / "plugins",
            stdin=sys.stdin,
            result_file=Path(result_file) if result_file else None,
            data_dir=folder,
        )
    )


@cli.group()
def plugins() -> None:
    """Plugins: list them with their errors, reload a running app's plugins folder."""


@plugins.command("list")
@data_dir_option
@click.option("--traceback", "show_traceback", is_flag=True, help="Print the traceback of each failed plugin.")
def plugins_list(data_dir: str | None, show_traceback: bool) -> None:
    """List the plugins: name, where from, loaded or the error."""
    from vcore_app.plugins.manager import Plugins

    settings = build_settings(data_dir)
    found = Plugins(plugins_dir=settings.plugins_dir, env_name=settings.ENV_NAME, quiet=True)
    for record in found.records:
        state = "loaded" if record.ok else f"FAILED: {record.error}"
        click.echo(f"{record.name}  [{record.origin}] {record.location}\n    {state}")
        if record.ok:
            click.echo(f"    hooks: {', '.join(record.hooks) or 'none'}")
        elif show_traceback and record.traceback:
            click.echo("    " + record.traceback.rstrip().replace("\n", "\n    "))


@plugins.command("reload")
@data_dir_option
def plugins_reload(data_dir: str | None) -> None:
    """Ask the app running on the data folder to re-import its plugins folder (no restart)."""
    import os
    import signal

    from vcore_app.instance import LOCK_FILE, AlreadyRunning, InstanceLock

    settings = build_settings(data_dir)
    try:
        InstanceLock.acquire(settings.DATA_DIR).release()
    except AlreadyRunning as running:
        pid = running.holder.pid
        if pid is None:
            fail("the running app has not written its pid yet; try again in a moment")
        os.kill(pid, signal.SIGHUP)
        click.echo(
            f"asked vcore-app (pid {pid}) to reload its plugins; the outcome is in its log "
            "and on the Plugins page. Changes to installed plugin packages need a restart."
        )
        return
    fail(f"no vcore-app runs on {settings.DATA_DIR} (see {LOCK_FILE}); its plugins load when it starts")


@cli.command("new")
@click.argument("kind", type=click.Choice(["tool", "script", "plugin"]))
@click.argument("name")
@data_dir_option
@click.option(
    "--package",
    "package_dir",
    metavar="DIR",
    is_flag=False,
    flag_value=".",
    default=None,
    help="Write an installable package (pyproject.toml with the entry point, and a test) into DIR "
    "(default: the current folder) instead of the plugins folder.",
)
def new(kind: str, name: str, data_dir: str | None, package_dir: str | None) -> None:
    """Write a working, commented skeleton of a Quick Tool, script or plugin named NAME."""
    from pathlib import Path

    from vcore_app.plugins.scaffold import ScaffoldError, scaffold

    plugins_dir = build_settings(data_dir).plugins_dir if package_dir is None else Path(".")
    try:
        written = scaffold(
            kind,  # type: ignore[arg-type]  # click.Choice allows only these three
            name,
            plugins_dir=plugins_dir,
            package_dir=Path(package_dir) if package_dir is not None else None,
        )
    except ScaffoldError as exc:
        fail(str(exc))
    for path in written:
        click.echo(f"wrote {path}")
    if package_dir is None:
        click.echo("The app picks it up at its next start, or now with `vcore-app plugins reload`.")
    else:
        click.echo(
            f"Install it with `pip install {(Path(package_dir) / name).resolve()}`; "
            "test it with `python -m pytest` there."
        )


def main() -> None:
    restrict_umask()  # first: every file made from here on is private (private.py)
    restore_frozen_environ()
    try:
        cli(prog_name="vcore-app")
    except SettingsError as exc:  # found past the settings, e.g. a DB_URL server that cannot be reached
        fail(str(exc))


@cli.group()
def users() -> None:
    """Accounts: create one (e.g. the first superuser), set a password, list them."""


def _engine(data_dir: str | None) -> Any:
    from vcore_app import db

    settings = build_settings(data_dir)
    db.migrate(settings.DB_URL)
    return db.engine_for(settings)


def _new_password(from_stdin: bool) -> str:
    if from_stdin:  # for scripts: the password never shows up in the process list or shell history
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("--password-stdin: no password on standard input")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")


password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)


@users.command("create")
@data_dir_option
@click.option("--username", prompt=True, help="Login name (letters, digits, . @ + - _).")
@click.option("--email", prompt="E-mail", help="E-mail address (for password resets).")
@click.option("--full-name", default="", help="Name shown in the UI.")
@click.option("--superuser", is_flag=True, help="May do everything, including managing users.")
@password_stdin_option
def users_create(
    data_dir: str | None, username: str, email: str, full_name: str, superuser: bool, password_stdin: bool
) -> None:
    """Create a user; with --superuser, one who may do everything."""
    from pydantic import ValidationError

    from vcore_app import db
    from vcore_app.errors import AppError, from_validation
    from vcore_app.users import UserRegister, create_user

    password = _new_password(password_stdin)
    try:
        form = UserRegister(username=username, email=email, password=password, full_name=full_name)
    except ValidationError as exc:
        fail(from_validation(exc).message)
    engine = _engine(data_dir)
    try:
        with db.session(engine) as session:
            create_user(
                session=session,
                username=form.username,
                email=form.email,
                password=form.password,
                full_name=form.full_name,
                is_superuser=superuser,
            )
    except AppError as exc:
        fail(exc.message)
    finally:
        engine.dispose()
    click.echo(f"created {'superuser' if superuser else 'user'} {form.username}")


@users.command("set-password")
@data_dir_option
@click.argument("username")
@password_stdin_option
def users_set_password(data_dir: str | None, username: str, password_stdin: bool) -> None:
    """Set USERNAME's password; all its sessions and tokens are logged out."""
    from vcore_app import db
    from vcore_app.errors import AppError
    from vcore_app.users import get_by_username, set_password

    engine = _engine(data_dir)
    try:
        with db.session(engine, readonly=True) as session:
            if get_by_username(session=session, username=username) is None:
                fail(f"USERNAME='{username}': no such user (see `vcore-app users list`)")
        password = _new_password(password_stdin)  # asked only for a user that exists
        with db.session(engine) as session:
            user = get_by_username(session=session, username=username)
            if user is None:  # deleted while the password was typed
                fail(f"USERNAME='{username}': no such user (see `vcore-app users list`)")
            set_password(session=session, user=user, password=password)
    except AppError as exc:
        fail(exc.message)
    finally:
        engine.dispose()
    click.echo(f"password of {username} changed; its sessions are logged out")


@users.command("list")
@data_dir_option
def users_list(data_dir: str | None) -> None:
    """List the accounts: id, username, e-mail, role, state, last login."""
    from vcore_app import db
    from vcore_app.users import list_users

    engine = _engine(data_dir)
    with db.session(engine, readonly=True) as session:
        accounts, _ = list_users(session=session, limit=1_000_000, offset=0)
    engine.dispose()
    rows = [("ID", "USERNAME", "EMAIL", "ROLE", "STATE", "LAST LOGIN")] + [
        (
            str(u.id),
            u.username,
            u.email,
            "superuser" if u.is_superuser else "user",
            "active" if u.is_active else "inactive",
            u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never",
        )
        for u in accounts
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip())


# -- issue 17: backup and restore ------------------------------------------------------------------


@cli.command()
@data_dir_option
@click.option("--to", "to", metavar="FILE", help="Write the archive here instead of DATA_DIR/backups/ (no retention).")
def backup(data_dir: str | None, to: str | None) -> None:
    """Back up the data folder live (the app may run): database, secrets, plugins."""
    from pathlib import Path

    from vcore_app import audit, backups, db

    settings = build_settings(data_dir)
    try:
        backups.database_file(settings)  # before any connection: PostgreSQL is pg_dump's business
    except backups.BackupError as exc:
        fail(str(exc))
    engine = db.engine_for(settings)
    try:
        db.migrate(settings.DB_URL)  # a fresh folder has no tables to copy yet
        path = backups.create_backup(
            settings=settings, engine=engine, actor=audit.CLI, to=Path(to).expanduser().resolve() if to else None
        )
    except backups.BackupError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"--to='{to}': cannot write the archive ({exc.strerror or exc})" if to else str(exc))
    finally:
        engine.dispose()
    click.echo(str(path))


@cli.command()
@data_dir_option
@click.argument("archive", metavar="FILE", type=click.Path(dir_okay=False))
def restore(data_dir: str | None, archive: str) -> None:
    """Restore a backup archive into the data folder (the app must be stopped); the current data is
    moved to DATA_DIR/backups/before-restore-<time>/."""
    from pathlib import Path

    from vcore_app import backups

    settings = build_settings(data_dir)
    try:
        aside = backups.restore(settings=settings, archive=Path(archive).expanduser().resolve())
    except backups.BackupError as exc:
        fail(str(exc))
    click.echo(f"restored {Path(archive).name}; the previous data is in {aside}")
