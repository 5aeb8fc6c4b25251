"""The HTML sanitizer: what nh3 (Rust's ammonia, the maintained successor of bleach) keeps of a snippet."""

from __future__ import annotations

from typing import Any

import nh3
from pydantic import BaseModel, Field

from vcore_app.tools import QuickTool


class HtmlSanitizer(QuickTool):
    name = "html-sanitize"
    title = "HTML sanitizer"
    description = "Strip scripts, event handlers and unsafe links from HTML, and compare before and after."
    template = "tools/html_sanitizer.html"

    class Input(BaseModel):
        html: str = Field(max_length=1_000_000, description="The HTML to clean")

    def run(self, data: Any) -> Any:
        cleaned = nh3.clean(data.html)
        return {"before": data.html, "after": cleaned, "changed": cleaned != data.html}
