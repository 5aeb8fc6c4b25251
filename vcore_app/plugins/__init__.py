"""Plugins: what an app or a user adds to vCore without forking it (docs/plugins.md).

A plugin is a module (or package) with functions marked `@hookimpl`, named after the hooks in
`hookspecs.py`. It is found in `DATA_DIR/plugins/*.py`, `DATA_DIR/plugins/<pkg>/__init__.py`, or
through the `vcore_app` entry-point group of an installed package; `manager.py` loads them. Our own
scripts and Quick Tools come through the same hooks (`builtins.py`).

This module is what plugin code imports: `hookimpl`, `restrict_to_env`, `NavItem`, `PluginSetting`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pluggy

PROJECT = "vcore_app"
ENTRY_POINT_GROUP = "vcore_app"

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin's function as the implementation of the hook of the same name."""

T = TypeVar("T")
_ENVS_ATTRIBUTE = "__vcore_envs__"


def restrict_to_env(*names: str) -> Callable[[T], T]:
    """Offer a script, Quick Tool or route (or a route's endpoint) only where ENV_NAME is one of `names`.

    @restrict_to_env("production")
    class Backup(Script): ...
    """
    if not names:
        raise ValueError("restrict_to_env needs at least one environment name")

    def mark(obj: T) -> T:
        setattr(obj, _ENVS_ATTRIBUTE, frozenset(names))
        return obj

    return mark


def allowed_in(obj: Any, env_name: str) -> bool:
    """Whether `obj` (or, for a route, its endpoint) may be offered in the environment `env_name`."""
    for candidate in (obj, getattr(obj, "endpoint", None)):
        envs = getattr(candidate, _ENVS_ATTRIBUTE, None)
        if envs is not None and env_name not in envs:
            return False
    return True


@dataclass(frozen=True)
class NavItem:
    """A link in the navigation bar, after ours."""

    label: str
    href: str
    superuser_only: bool = False


@dataclass(frozen=True)
class PluginSetting:
    """A plugin's own setting: read from the environment or DATA_DIR/.env, listed by --help-settings."""

    name: str
    default: str
    help: str
