"""Our own scripts and Quick Tools, offered through the same hooks a third-party plugin uses, so the
hook surface is exercised by our own code on every start."""

from __future__ import annotations

from vcore_app.plugins import hookimpl
from vcore_app.scripts.base import Script
from vcore_app.tools import QuickTool


@hookimpl
def register_scripts() -> list[type[Script]]:
    from vcore_app.scripts.builtin import BUILT_INS

    return list(BUILT_INS)


@hookimpl
def register_quick_tools() -> list[type[QuickTool]]:
    from vcore_app.tools.builtin import builtin_tools

    return builtin_tools()
