"""Where the bundled `assets/` and `migrations/` folders are.

Three layouts, one answer:
- frozen binary: PyInstaller unpacks data files under `sys._MEIPASS`;
- installed wheel: the build copies them into the package as `_assets` and `_migrations`;
- source checkout (also an editable install): they sit next to the package, at the repo's top level.
"""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / name)
    candidates += [_PACKAGE / f"_{name}", _PACKAGE.parent / name]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled folder {name!r} not found (looked in {', '.join(map(str, candidates))})")


def self_command() -> list[str]:
    """How to start this program again as a child (`+ ["script", "run", NAME]`): the frozen binary is
    `sys.executable` itself; from source or a wheel it is the interpreter with `-m vcore_app`."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "vcore_app"]


def assets_dir() -> Path:
    return _find("assets")


def migrations_dir() -> Path:
    return _find("migrations")
