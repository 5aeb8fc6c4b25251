"""Running a Quick Tool for a user: the one path of the tool pages and `POST /api/v1/tools/{name}`.

The role rule lives here: a tool marked `superuser_only` (it reads the server's files, e.g. git
status) is hidden from and refused to everyone else.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from vcore_app.errors import AppError, invalid
from vcore_app.models import User
from vcore_app.tools import QuickTool, StreamingTool, ToolContext, ToolFailed
from vcore_app.tools.registry import ToolRegistry


def visible_tools(*, tools: ToolRegistry, actor: User) -> list[QuickTool]:
    return [tool for tool in tools.all() if actor.is_superuser or not tool.superuser_only]


def describe_tools(*, tools: ToolRegistry, actor: User) -> list[dict[str, Any]]:
    return [
        {
            "name": tool.name,
            "title": tool.title,
            "description": tool.description,
            "superuser_only": tool.superuser_only,
            "input_schema": tool.Input.model_json_schema(),
        }
        for tool in visible_tools(tools=tools, actor=actor)
    ]


def get_tool(*, tools: ToolRegistry, name: str, actor: User) -> QuickTool:
    tool = tools.get(name)
    if tool.superuser_only and not actor.is_superuser:
        raise AppError("This needs a superuser", 403)
    return tool


def run_tool(*, tool: QuickTool, data: BaseModel, ctx: ToolContext) -> Any:
    """The tool's result for validated input (a streaming tool's whole answer); a ToolFailed becomes
    a 422 naming the field."""
    if tool.superuser_only and not ctx.actor.is_superuser:
        raise AppError("This needs a superuser", 403)
    try:
        return tool.run_with(data, ctx) if isinstance(tool, StreamingTool) else tool.run(data)
    except ToolFailed as exc:
        raise invalid(exc.field or "input", str(exc)) from None
