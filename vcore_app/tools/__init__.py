"""Quick Tools: small single-purpose utilities with a form and a result card (seed section 4.7).

A tool is a `QuickTool` subclass: `name`, `title`, `description`, an `Input` pydantic model and
`run(data) -> result`. Its page is `/tools/<name>`; its template extends
`tools/quick_tool_base.html` and fills the blocks quick_tool_name, quick_tool_description,
quick_tool_input_form and results_card_body. Tools run in the request (in a worker thread), so they
must be quick; anything slow belongs in a script job.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel


class QuickTool:
    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    template: ClassVar[str] = "tools/generic.html"
    superuser_only: ClassVar[bool] = False  # e.g. tools that read the server's files

    class Input(BaseModel):
        pass

    def run(self, data: Any) -> Any:
        raise NotImplementedError


class ToolFailed(Exception):
    """The tool could not produce a result for this input; the message is shown to the user, next
    to `field` when the problem is in one field (the API answers 422 naming it)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
