"""Git repository status for superusers: branch, last commits and changed files, through `git` itself.

Superuser only: it reads any folder the server can read. It runs read-only git commands with a
timeout and never overrides git's own refusal of a repository owned by someone else
(`safe.directory`), since another user's repository configuration could run programs of theirs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from vcore_app.tools import QuickTool, ToolFailed

_TIMEOUT_SECONDS = 10
_SEPARATOR = "\x1f"


def _git(folder: Path, *args: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise ToolFailed("git is not installed on the server")
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            [git, "-C", str(folder), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ToolFailed(f"git took longer than {_TIMEOUT_SECONDS} s", field="path") from None
    if done.returncode != 0:
        raise ToolFailed((done.stderr.strip().splitlines() or ["git failed"])[-1].removeprefix("fatal: "), field="path")
    return done.stdout


class GitStatus(QuickTool):
    name = "git-status"
    title = "Git repository status"
    description = "Branch, last commits and changed files of a git repository on the server (superusers)."
    template = "tools/git_status.html"
    superuser_only = True

    class Input(BaseModel):
        path: str = Field(min_length=1, max_length=4096, description="Folder of the repository on the server")
        commits: int = Field(10, ge=1, le=100, description="How many recent commits to list")

    def run(self, data: Any) -> Any:
        try:
            folder = Path(data.path).expanduser()
        except RuntimeError:  # `~name` of a user the server does not know
            raise ToolFailed("No such user's home folder on the server", field="path") from None
        if not folder.is_absolute() or "\0" in data.path:
            raise ToolFailed("Name the folder by its absolute path (or one under ~)", field="path")
        if not folder.is_dir():
            raise ToolFailed("No such folder on the server", field="path")
        root = _git(folder, "rev-parse", "--show-toplevel").strip()
        status = _git(folder, "status", "--porcelain=v1", "--branch", "--untracked-files=normal").splitlines()
        head = status[0].removeprefix("## ") if status and status[0].startswith("## ") else ""
        changes = [{"status": line[:2].strip(), "path": line[3:]} for line in status[1:] if line]
        try:
            log = _git(
                folder, "log", f"-n{data.commits}", f"--pretty=format:%H{_SEPARATOR}%an{_SEPARATOR}%aI{_SEPARATOR}%s"
            )
        except ToolFailed:  # a repository without commits yet
            log = ""
        commits = [
            dict(zip(("hash", "author", "date", "subject"), line.split(_SEPARATOR, 3), strict=False))
            for line in log.splitlines()
        ]
        return {
            "root": root,
            "branch": head.split("...")[0],
            "tracking": head,
            "dirty": bool(changes),
            "changes": changes,
            "commits": commits,
        }
