"""The JSON / YAML / TOML / CSV converter and formatter, on well-kept parsers: json, PyYAML (safe
loading only), tomllib with tomli-w, csv. PyYAML is imported on first use: it is the slowest of
them to import and the app's start should not pay for a tool nobody has opened."""

from __future__ import annotations

import csv
import io
import json
import tomllib
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, Field

from vcore_app.tools import QuickTool, ToolFailed

Format = Literal["json", "yaml", "toml", "csv"]


def _read(text: str, kind: str) -> Any:
    import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints

    try:
        if kind == "json":
            return json.loads(text)
        if kind == "yaml":
            return yaml.safe_load(text)
        if kind == "toml":
            return tomllib.loads(text)
        return list(csv.DictReader(io.StringIO(text)))
    except (ValueError, yaml.YAMLError, csv.Error) as exc:
        raise ToolFailed(f"Not valid {kind.upper()}: {' '.join(str(exc).split())}", field="text") from None


def _write(value: Any, kind: str, indent: int) -> str:
    if kind == "json":
        return json.dumps(value, indent=indent or None, ensure_ascii=False, default=str)
    if kind == "yaml":
        import yaml

        dumped: str = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, indent=max(indent, 2))
        return dumped
    if kind == "toml":
        if not isinstance(value, dict):
            raise ToolFailed("TOML needs a table (an object) at the top level", field="to_format")
        try:
            return tomli_w.dumps(value)
        except TypeError as exc:
            raise ToolFailed(f"Cannot be written as TOML: {exc}", field="to_format") from None
    rows = value if isinstance(value, list) else [value]
    if not rows or not all(isinstance(row, dict) for row in rows):
        raise ToolFailed("CSV needs a list of objects (one per row)", field="to_format")
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()} for row in rows)
    return out.getvalue()


class DataFormats(QuickTool):
    name = "data-formats"
    title = "JSON, YAML, TOML and CSV"
    description = "Convert between JSON, YAML, TOML and CSV, or pretty-print one of them."

    class Input(BaseModel):
        text: str = Field(max_length=1_000_000, description="The document")
        from_format: Format = "json"
        to_format: Format = "json"
        indent: int = Field(2, ge=0, le=8, description="Indentation of JSON and YAML output")

    def run(self, data: Any) -> Any:
        return _write(_read(data.text, data.from_format), data.to_format, data.indent)
