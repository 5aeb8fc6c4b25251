"""Built-in script: how much space a folder and its largest entries take."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vcore_app.scripts.base import Script, ScriptContext, ScriptError


class DiskUsage(Script):
    name = "disk_usage"
    description = "Report the size of a folder and of its largest entries."

    class Input(BaseModel):
        model_config = ConfigDict(extra="forbid")
        path: str = Field(title="Folder", description="Folder to measure.")
        top: int = Field(
            10, ge=1, le=1000, title="Largest entries", description="How many of the largest entries to list."
        )

    def run(self, input: Input, ctx: ScriptContext) -> dict[str, Any]:
        root = Path(input.path).expanduser()
        if not root.is_dir():
            raise ScriptError(f"path='{input.path}': not a folder", permanent=True)
        sizes = {entry: _size(entry) for entry in root.iterdir()}
        largest = sorted(sizes.items(), key=lambda item: item[1], reverse=True)[: input.top]
        total = sum(sizes.values())
        ctx.log(f"{root}: {total} bytes in {len(sizes)} entries")
        for entry, size in largest:
            ctx.log(f"{size:>14}  {entry.name}")
        return {
            "path": str(root),
            "total_bytes": total,
            "entries": len(sizes),
            "largest": [{"name": entry.name, "bytes": size} for entry, size in largest],
        }


def _size(path: Path) -> int:
    if path.is_symlink() or not path.is_dir():
        return path.lstat().st_size
    total = 0
    for folder, _dirs, files in os.walk(path, onerror=lambda _error: None):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total
