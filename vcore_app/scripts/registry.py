"""Which scripts exist: the built-ins plus every `Script` subclass in `DATA_DIR/plugins/*.py`.

A broken plugin is logged and skipped: the server and the other scripts still start.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

from loguru import logger

from vcore_app.scripts.base import Script
from vcore_app.scripts.disk_usage import DiskUsage
from vcore_app.scripts.http_check import HttpCheck

BUILT_INS: tuple[type[Script], ...] = (DiskUsage, HttpCheck)


class UnknownScript(LookupError):
    pass


class ScriptRegistry:
    def __init__(self, scripts: list[type[Script]] | None = None) -> None:
        self._scripts: dict[str, type[Script]] = {}
        for script in scripts if scripts is not None else BUILT_INS:
            self.add(script)

    @classmethod
    def load(cls, plugins_dir: Path | None) -> ScriptRegistry:
        registry = cls()
        registry.add_plugins(plugins_dir)
        return registry

    def add_plugins(self, plugins_dir: Path | None) -> None:
        for path in sorted(plugins_dir.glob("*.py")) if plugins_dir and plugins_dir.is_dir() else []:
            try:
                for script in _scripts_in(path):
                    self.add(script, origin=path)
            except Exception:
                logger.exception("plugin {} could not be loaded; skipped", path)

    def add(self, script: type[Script], origin: Path | None = None) -> None:
        if not script.name:
            raise ValueError(f"{script.__qualname__} has no name")
        if script.name in self._scripts:
            logger.warning("script {!r} from {} ignored: the name is taken", script.name, origin or script.__module__)
            return
        self._scripts[script.name] = script

    def get(self, name: str) -> type[Script]:
        try:
            return self._scripts[name]
        except KeyError:
            known = ", ".join(sorted(self._scripts)) or "none"
            raise UnknownScript(f"unknown script '{name}' (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._scripts)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "description": script.description, "input_schema": script.Input.model_json_schema()}
            for name, script in sorted(self._scripts.items())
        ]

    def validate_input(self, name: str, data: Any) -> dict[str, Any]:
        """The input as the script will see it (defaults filled); ValidationError when it does not fit."""
        return self.get(name).Input.model_validate(data or {}).model_dump(mode="json")


def _scripts_in(path: Path) -> list[type[Script]]:
    module_name = f"vcore_plugins.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, Script) and obj.__module__ == module_name and obj.name
    ]
