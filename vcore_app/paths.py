"""Where the bundled `assets/` and `migrations/` folders are.

Three layouts, one answer:
- frozen binary: PyInstaller unpacks data files under `sys._MEIPASS`;
- installed wheel: the build copies them into the package as `_assets` and `_migrations`;
- source checkout (also an editable install): they sit next to the package, at the repo's top level.
"""

from __future__ import annotations

import importlib.util
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


def assets_dir() -> Path:
    return _find("assets")


def migrations_dir() -> Path:
    return _find("migrations")


def bootstrap_dir() -> Path:
    """Bootstrap's dist files, from the `bootstrap` package of bootstrap-wrapper (a namespace package)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and (Path(bundle) / "bootstrap" / "css").is_dir():
        return Path(bundle) / "bootstrap"
    spec = importlib.util.find_spec("bootstrap")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the bootstrap-wrapper package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))
