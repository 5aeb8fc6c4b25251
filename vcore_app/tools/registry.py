"""Which Quick Tools exist: the built-ins of tools/builtin.py. Nothing loads tools from plugins yet
(scripts do: scripts/registry.py); `register` is the one way a tool gets in."""

from __future__ import annotations

from vcore_app.errors import AppError
from vcore_app.tools import QuickTool
from vcore_app.tools.builtin import BUILTIN_TOOLS


class ToolRegistry:
    def __init__(self, tools: list[type[QuickTool]] | None = None) -> None:
        self._tools: dict[str, QuickTool] = {}
        for tool in tools if tools is not None else BUILTIN_TOOLS:
            self.register(tool)

    def register(self, tool: type[QuickTool]) -> None:
        self._tools[tool.name] = tool()

    def all(self) -> list[QuickTool]:
        return sorted(self._tools.values(), key=lambda tool: tool.title.lower())

    def get(self, name: str) -> QuickTool:
        tool = self._tools.get(name)
        if tool is None:
            raise AppError("No such Quick Tool", 404)
        return tool
