"""`vcore-app new tool|script|plugin NAME`: a working, commented skeleton to start from.

Into the plugins folder by default (the app picks it up at its next start, or at once with
`vcore-app plugins reload`); with `package=True` an installable project instead: pyproject.toml
with the `vcore_app` entry point, the package, and a test. Files are written for our user only
(0600, folders 0700): the loader refuses plugins other users can change.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from string import Template
from typing import Literal

Kind = Literal["tool", "script", "plugin"]
SKELETONS = Path(__file__).resolve().parent / "skeletons"
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,49}")
_HOOK_FOR = {"tool": "register_quick_tools", "script": "register_scripts"}


class ScaffoldError(Exception):
    """The skeleton cannot be written: one sentence naming the name or the path."""


def _values(name: str) -> dict[str, str]:
    if not _NAME.fullmatch(name):
        raise ScaffoldError(f"NAME='{name}': use lower-case letters, digits, - and _, starting with a letter")
    module = name.replace("-", "_")
    words = re.split(r"[-_]", name)
    return {
        "name": name,
        "module": module,
        "title": " ".join(words).capitalize(),
        "class_name": "".join(word.capitalize() for word in words),
    }


def _skeleton(file: str, values: dict[str, str]) -> str:
    return Template((SKELETONS / file).read_text()).substitute(values)


def _write(files: dict[Path, str]) -> list[Path]:
    taken = [path for path in files if path.exists()]
    if taken:
        raise ScaffoldError(f"{taken[0]} exists already; choose another NAME or move it away")
    for path, text in files.items():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
    return list(files)


def _module_source(kind: Kind, values: dict[str, str], *, package: bool) -> str:
    if kind == "plugin":
        return _skeleton("plugin.py.txt", values)
    source = _skeleton(f"{kind}.py.txt", values)
    if package:  # an installed package is not searched for classes: it names them through a hook
        hook = _HOOK_FOR[kind]
        source += (
            f"\n\nfrom vcore_app.plugins import hookimpl  # noqa: E402\n\n\n@hookimpl\n"
            f"def {hook}() -> list[type]:\n    return [{values['class_name']}]\n"
        )
    return source


def scaffold(kind: Kind, name: str, *, plugins_dir: Path, package_dir: Path | None = None) -> list[Path]:
    """Write the skeleton of `kind` named `name`; the paths written. `package_dir`: where an
    installable project goes instead of the plugins folder."""
    values = _values(name)
    module = values["module"]
    files: dict[Path, str] = {}
    if package_dir is not None:
        root = package_dir / name
        files[root / "pyproject.toml"] = _skeleton("pyproject.toml.txt", values)
        files[root / module / "__init__.py"] = _module_source(kind, values, package=True)
        files[root / "tests" / f"test_{module}.py"] = _skeleton("test_package.py.txt", values)
        if kind == "plugin":
            files[root / module / "templates" / module / "page.html"] = _skeleton("page.html.txt", values)
        return _write(files)
    if kind == "plugin":
        files[plugins_dir / module / "__init__.py"] = _module_source(kind, values, package=False)
        files[plugins_dir / module / "templates" / module / "page.html"] = _skeleton("page.html.txt", values)
    else:
        files[plugins_dir / f"{module}.py"] = _module_source(kind, values, package=False)
    return _write(files)
