"""Which Quick Tools exist: what the plugins offer through `register_quick_tools`, our built-ins
included (vcore_app/plugins/manager.py)."""

from __future__ import annotations

from loguru import logger

from vcore_app.errors import AppError
from vcore_app.tools import QuickTool


class ToolRegistry:
    def __init__(self, tools: list[type[QuickTool]]) -> None:
        self._tools: dict[str, QuickTool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: type[QuickTool]) -> None:
        if tool.name in self._tools:
            logger.warning("Quick Tool {!r} from {} ignored: the name is taken", tool.name, tool.__module__)
            return
        self._tools[tool.name] = tool()

    def replace(self, tools: list[type[QuickTool]]) -> None:
        """The tools after a plugin reload, swapped in one assignment."""
        self._tools = ToolRegistry(tools)._tools

    def all(self) -> list[QuickTool]:
        return sorted(self._tools.values(), key=lambda tool: tool.title.lower())

    def get(self, name: str) -> QuickTool:
        tool = self._tools.get(name)
        if tool is None:
            raise AppError("No such Quick Tool", 404)
        return tool
