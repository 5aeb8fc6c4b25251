"""Finding, loading and calling plugins; a broken plugin is reported, never fatal.

Sources, in this order (a later plugin cannot take a name an earlier one has):
1. our built-ins (`builtins.py`), through the same hooks as everyone else;
2. installed packages that declare an entry point in the `vcore_app` group;
3. the data folder: `DATA_DIR/plugins/*.py` and `DATA_DIR/plugins/<pkg>/__init__.py`, imported as
   `vcore_plugins.<name>`. A file there may simply define `Script` / `QuickTool` subclasses: they
   are registered without any hook (the binary's users need no more than that).

Plugins are code running as the app. So a plugin file, package folder or the plugins folder itself
that other users can write to is refused (it would let them run code as us), with one log line.

Every failure (import error, unknown hook name, a hook that raises) is kept on the plugin's record,
with its traceback, for the Plugins page and `vcore-app plugins list`, and logged once.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import inspect
import os
import stat
import sys
import threading
import traceback
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy
from dotenv import dotenv_values
from loguru import logger

from vcore_app.plugins import (
    ENTRY_POINT_GROUP,
    PROJECT,
    PluginSetting,
    allowed_in,
    hookimpl,
    hookspecs,
)
from vcore_app.scripts.registry import ScriptRegistry

if TYPE_CHECKING:
    from vcore_app.settings import Settings

FOLDER_PACKAGE = "vcore_plugins"
BUILT_IN, PACKAGE, DATA_FOLDER = "built-in", "package", "data folder"


@dataclass
class PluginRecord:
    """One plugin as the Plugins page shows it."""

    name: str
    origin: str  # BUILT_IN, PACKAGE or DATA_FOLDER
    location: str
    hooks: list[str] = field(default_factory=list)
    error: str | None = None
    traceback: str | None = None
    failures: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


class Plugins:
    """The plugins of this process and the answers of their hooks.

    `env_name` filters what `restrict_to_env` marked (None: no filter, as in a script's child
    process, whose job was checked when it was created). `quiet` keeps a child process from
    logging what the server has already logged.
    """

    def __init__(
        self, *, plugins_dir: Path | None, env_name: str | None, quiet: bool = False, entry_points: bool = True
    ) -> None:
        self.plugins_dir = plugins_dir
        self.env_name = env_name
        self.quiet = quiet
        self.records: list[PluginRecord] = []
        self._by_plugin_name: dict[str, PluginRecord] = {}
        self._logged: set[tuple[str, str]] = set()
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.RLock()
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        from vcore_app.plugins import builtins

        self._register(builtins, PluginRecord("vcore_app", BUILT_IN, "vcore_app.plugins.builtins"))
        if entry_points:
            self._load_entry_points()
        self._load_folder()

    # ---- loading

    def _load_entry_points(self) -> None:
        for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = getattr(entry, "dist", None)
            where = f"{dist.name} {dist.version}" if dist is not None else entry.value
            record = PluginRecord(entry.name, PACKAGE, where)
            try:
                plugin = entry.load()
            except Exception as exc:
                self._fail(record, exc, "import")
                self.records.append(record)
                continue
            self._register(plugin, record)

    def _load_folder(self) -> None:
        folder = self.plugins_dir
        if folder is None or not folder.is_dir():
            return
        for path in sorted(folder.iterdir()):
            if path.name.startswith(("_", ".")):
                continue
            if path.is_file() and path.suffix == ".py":
                entry = path
            elif path.is_dir() and (path / "__init__.py").is_file():
                entry = path / "__init__.py"
            else:
                continue
            record = PluginRecord(path.stem, DATA_FOLDER, str(path))
            refusal = _writable_by_others(folder, path, entry)
            if refusal:
                record.error = refusal
                self.records.append(record)
                self._log_once(record, "load", f"plugin {record.name} refused: {refusal}", exception=False)
                continue
            try:
                module = _import_from_folder(path.stem, entry, package=entry is not path)
            except Exception as exc:
                self._fail(record, exc, "import")
                self.records.append(record)
                continue
            self._register(module, record)
            if record.ok:
                self._register_discovered(module, record)

    def _register(self, plugin: object, record: PluginRecord) -> None:
        plugin_name = f"{record.origin}:{record.name}"
        try:
            self.pm.register(plugin, name=plugin_name)
        except Exception as exc:
            self._fail(record, exc, "register")
            self.records.append(record)
            return
        unknown = [caller.name for caller in self.pm.get_hookcallers(plugin) or [] if caller.spec is None]
        if unknown:
            self.pm.unregister(plugin)
            record.error = (
                f"unknown hook {', '.join(sorted(unknown))} (the hooks are listed in vcore_app/plugins/hookspecs.py)"
            )
            self._log_once(record, "register", f"plugin {record.name} not loaded: {record.error}", exception=False)
        else:
            record.hooks = sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or [])
            self._by_plugin_name[plugin_name] = record
        self.records.append(record)

    def _register_discovered(self, module: types.ModuleType, record: PluginRecord) -> None:
        """Script and QuickTool subclasses a data-folder module defines, for the hooks it lacks."""
        from vcore_app.scripts.base import Script
        from vcore_app.tools import QuickTool

        found = _Discovered(module, Script, QuickTool, skip=set(record.hooks))
        if not (found.scripts or found.tools):
            return
        plugin_name = f"{record.origin}:{record.name}:discovered"
        self.pm.register(found, name=plugin_name)
        self._by_plugin_name[plugin_name] = record
        record.hooks = sorted(
            {
                *record.hooks,
                *(["register_scripts"] if found.scripts else []),
                *(["register_quick_tools"] if found.tools else []),
            }
        )

    # ---- calling

    def collect(
        self, hook: str, *, only: Callable[[PluginRecord], bool] | None = None, **kwargs: Any
    ) -> list[tuple[PluginRecord, Any]]:
        """Each plugin's answer to `hook`, in load order; a plugin whose hook raises is skipped and
        its record says why."""
        answers = []
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            record = self._by_plugin_name.get(impl.plugin_name)
            if record is None or (only is not None and not only(record)):
                continue  # unregistered by a reload on another thread meanwhile
            try:
                answer = impl.function(*[kwargs[name] for name in impl.argnames])
            except Exception as exc:
                self._fail(record, exc, hook)
                continue
            answers.append((record, answer))
        return answers

    def entries(self, hook: str) -> list[tuple[PluginRecord, Any]]:
        """(plugin, item) for every item of the lists a `register_*` hook returned, minus what
        `restrict_to_env` keeps out of this environment."""
        joined = []
        for record, answer in self.collect(hook):
            if answer is None:
                continue
            if not isinstance(answer, Iterable) or isinstance(answer, (str, bytes)):
                self.report(record, f"{hook} must return a list, not {type(answer).__name__}", hook)
                continue
            joined += [(record, item) for item in answer if self.env_name is None or allowed_in(item, self.env_name)]
        return joined

    def items(self, hook: str) -> list[Any]:
        return [item for _, item in self.entries(hook)]

    def report(self, record: PluginRecord, problem: str, during: str) -> None:
        """Keep a problem the caller found with a plugin's answer (shown and logged once)."""
        self._fail(record, ValueError(problem), during)

    def notify(self, hook: str, **kwargs: Any) -> None:
        """Call an event hook (on_startup, on_job_finished, ...) of every plugin; never raises."""
        self.collect(hook, **kwargs)

    def refusal(self, **kwargs: Any) -> str | None:
        """The first reason a `prepare_job` hook gives to refuse the job. A hook that crashes refuses
        too (fail closed): a plugin that guards jobs should not let them through by breaking."""
        for impl in self.pm.hook.prepare_job.get_hookimpls():
            record = self._by_plugin_name.get(impl.plugin_name)
            if record is None:
                continue
            try:
                reason = impl.function(*[kwargs[name] for name in impl.argnames])
            except Exception as exc:
                self._fail(record, exc, "prepare_job")
                return f"the plugin {record.name} could not check this job"
            if reason:
                return f"{reason} (plugin {record.name})"
        return None

    def scripts(self) -> list[Any]:
        return self.items("register_scripts")

    def quick_tools(self) -> list[Any]:
        return self.items("register_quick_tools")

    def notification_channels(self) -> list[Any]:
        """Channel classes for the notifications subsystem (the hook exists before its consumer)."""
        return self.items("register_notification_channels")

    def settings(self) -> list[PluginSetting]:
        return [item for item in self.items("extra_settings") if isinstance(item, PluginSetting)]

    # ---- reload

    def on_change(self, listener: Callable[[], None]) -> None:
        """`listener()` runs after each reload (the web layer rebuilds routes, templates, menus)."""
        self._listeners.append(listener)

    def reload(self, *, settings: Settings, runtime: Any) -> str:
        """Re-import the data-folder plugins without a restart: their on_shutdown, a fresh import,
        their on_startup, then the listeners. Installed packages stay as imported: changing those
        needs a restart (re-importing a package in a running process is not safe)."""

        def in_folder(record: PluginRecord) -> bool:
            return record.origin == DATA_FOLDER

        with self._lock:
            self.notify_only("on_shutdown", in_folder, settings=settings, runtime=runtime)
            for plugin_name, plugin in list(self.pm.list_name_plugin()):
                if plugin_name.startswith(f"{DATA_FOLDER}:"):
                    self.pm.unregister(plugin)
                    self._by_plugin_name.pop(plugin_name, None)
            self.records = [record for record in self.records if record.origin != DATA_FOLDER]
            self._logged = {key for key in self._logged if not key[0].startswith(f"{DATA_FOLDER}:")}
            for name in [
                name for name in sys.modules if name == FOLDER_PACKAGE or name.startswith(f"{FOLDER_PACKAGE}.")
            ]:
                del sys.modules[name]
            self._load_folder()
            self.notify_only("on_startup", in_folder, settings=settings, runtime=runtime)
            for listener in self._listeners:
                listener()
        folder = [record for record in self.records if record.origin == DATA_FOLDER]
        broken = sum(not record.ok for record in folder)
        message = f"Reloaded {len(folder)} plugin{'s' if len(folder) != 1 else ''} from the plugins folder"
        message += f", {broken} with errors" if broken else ""
        logger.info("{}", message)
        return message + ". Changes to installed plugin packages need a restart."

    def notify_only(self, hook: str, only: Callable[[PluginRecord], bool], **kwargs: Any) -> None:
        self.collect(hook, only=only, **kwargs)

    # ---- failures

    def _fail(self, record: PluginRecord, exc: BaseException, during: str) -> None:
        record.failures += 1
        if record.error is None:
            record.error = f"{during}: {type(exc).__name__}: {exc}"
            record.traceback = "".join(traceback.format_exception(exc))
        self._log_once(
            record,
            during,
            f"plugin {record.name} ({record.location}) failed in {during}: {type(exc).__name__}: {exc}",
            exception=True,
            exc=exc,
        )

    def _log_once(
        self, record: PluginRecord, during: str, message: str, *, exception: bool, exc: BaseException | None = None
    ) -> None:
        key = (f"{record.origin}:{record.name}", during)
        if self.quiet or key in self._logged:
            return
        self._logged.add(key)
        if exception and exc is not None:
            logger.opt(exception=exc).error("{}", message)
        else:
            logger.warning("{}", message)


class _Discovered:
    """Hook implementations for the Script and QuickTool classes a data-folder module defines."""

    def __init__(self, module: types.ModuleType, script_base: type, tool_base: type, skip: set[str]) -> None:
        defined = [obj for obj in vars(module).values() if inspect.isclass(obj) and obj.__module__ == module.__name__]
        self.scripts = (
            []
            if "register_scripts" in skip
            else [cls for cls in defined if issubclass(cls, script_base) and bool(getattr(cls, "name", ""))]
        )
        self.tools = (
            []
            if "register_quick_tools" in skip
            else [cls for cls in defined if issubclass(cls, tool_base) and bool(getattr(cls, "name", ""))]
        )

    @hookimpl
    def register_scripts(self) -> list[type]:
        return self.scripts

    @hookimpl
    def register_quick_tools(self) -> list[type]:
        return self.tools


def _writable_by_others(folder: Path, path: Path, entry: Path) -> str | None:
    for candidate in dict.fromkeys((folder, path, entry)):
        mode = candidate.stat().st_mode
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            return f"{candidate} is writable by other users (chmod go-w '{candidate}')"
    return None


def _import_from_folder(name: str, entry: Path, *, package: bool) -> types.ModuleType:
    if FOLDER_PACKAGE not in sys.modules:
        parent = types.ModuleType(FOLDER_PACKAGE, "Plugins imported from DATA_DIR/plugins.")
        parent.__path__ = []
        sys.modules[FOLDER_PACKAGE] = parent
    module_name = f"{FOLDER_PACKAGE}.{name}"
    spec = importlib.util.spec_from_file_location(
        module_name, entry, submodule_search_locations=[str(entry.parent)] if package else None
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {entry}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def setting_value(settings: Settings, name: str, default: str = "") -> str:
    """A plugin setting (see `extra_settings`): the environment first, then DATA_DIR/.env."""
    if name in os.environ:
        return os.environ[name]
    env_file = settings.DATA_DIR / ".env"
    value = dotenv_values(env_file).get(name) if env_file.is_file() else None
    return value if value is not None else default


def script_registry(plugins_dir: Path | None) -> ScriptRegistry:
    """Every plugin's scripts, quietly and for any environment: what a script's child process and
    `vcore-app script list` need (the server has logged broken plugins and checked the job's
    environment already)."""
    return ScriptRegistry(Plugins(plugins_dir=plugins_dir, env_name=None, quiet=True).scripts())
