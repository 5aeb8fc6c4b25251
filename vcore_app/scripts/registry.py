"""Which scripts exist: what the plugins offer through `register_scripts` (our built-ins included;
vcore_app/plugins/manager.py loads them, and a broken plugin is reported there, never fatal)."""

from __future__ import annotations

from typing import Any

from loguru import logger

from vcore_app.scripts.base import Script
from vcore_app.scripts.builtin import BUILT_INS


class UnknownScript(LookupError):
    pass


class ScriptRegistry:
    def __init__(self, scripts: list[type[Script]] | None = None) -> None:
        self._scripts: dict[str, type[Script]] = {}
        for script in scripts if scripts is not None else BUILT_INS:
            self.add(script)

    def replace(self, scripts: list[type[Script]]) -> None:
        """The scripts after a plugin reload (one assignment: readers never see a half-built table)."""
        fresh = ScriptRegistry(scripts)
        self._scripts = fresh._scripts

    def add(self, script: type[Script]) -> None:
        if not script.name:
            raise ValueError(f"{script.__qualname__} has no name")
        if script.name in self._scripts:
            logger.warning("script {!r} from {} ignored: the name is taken", script.name, script.__module__)
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
