"""Quick Tools: small single-purpose utilities with a form and a result card (seed section 4.7).

A tool is a `QuickTool` subclass: `name`, `title`, `description`, an `Input` pydantic model and
`run(data) -> result`. Its page is `/tools/<name>`; its template extends
`tools/quick_tool_base.html` and fills the blocks quick_tool_name, quick_tool_description,
quick_tool_input_form and results_card_body. Tools run in the request (in a worker thread), so they
must be quick; anything slow belongs in a script job.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from vcore_app.llm.client import LLM
    from vcore_app.models import User
    from vcore_app.settings import Settings


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


# -- tools whose answer arrives over time (the LLM helpers' "Ask an LLM") ---------------------------


@dataclass(frozen=True)
class ToolContext:
    """What a tool that needs more than its input gets: the settings, the acting user, the engine,
    and `llm`, the same client scripts get as `ctx.llm`."""

    settings: Settings
    actor: User
    engine: Engine

    @cached_property
    def llm(self) -> LLM:
        """The LLM client (vcore_app/llm/); its calls count for the acting user. 403 unless the user
        may use it (whoever may run scripts)."""
        from vcore_app.llm.access import check_allowed
        from vcore_app.llm.client import LLM
        from vcore_app.llm.usage import recorder

        check_allowed(actor=self.actor)
        return LLM(self.settings, on_result=recorder(self.engine, purpose="quick_tool", user_id=self.actor.id))


class StreamingTool(QuickTool):
    """A tool whose answer is text arriving over time: `/tools/<name>/stream` sends it as it comes
    (assets/static/js/quick_tool_stream.js shows it); without JavaScript the form gets it whole."""

    template = "tools/streaming.html"

    def stream(self, data: Any, ctx: ToolContext) -> Iterator[str]:
        raise NotImplementedError

    def run_with(self, data: Any, ctx: ToolContext) -> str:
        return "".join(self.stream(data, ctx))
