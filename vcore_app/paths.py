"""Where the bundled `assets/` and `migrations/` folders are, and how to run this program again.

Three layouts, one answer:
- frozen binary: PyInstaller unpacks data files under `sys._MEIPASS`;
- installed wheel: the build copies them into the package as `_assets` and `_migrations`;
- source checkout (also an editable install): they sit next to the package, at the repo's top level.
"""

from __future__ import annotations

import importlib.util
import os
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


def swagger_ui_dir() -> Path:
    """Swagger UI's dist files, from the swagger-ui-py package (found, never imported: its
    `__init__` pulls in framework glue we do not use)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and (Path(bundle) / "swagger_ui" / "static").is_dir():
        return Path(bundle) / "swagger_ui" / "static"
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def self_command() -> list[str]:
    """How to run this program again as a child (script jobs: `[*self_command(), "script", "run", NAME]`).

    Frozen, `sys.executable` is the binary itself and takes our CLI arguments directly. A one-file
    child inherits the bootloader's `_PYI_*` variables and so reuses our unpacked folder instead of
    unpacking again (measured: no new `_MEI*` folder). That folder goes when we exit, which is fine
    because shutdown ends running jobs first; PYINSTALLER_RESET_ENVIRONMENT=1 in the child's
    environment would make it an independent instance instead.
    """
    return [sys.executable] if is_frozen() else [sys.executable, "-m", "vcore_app"]


def restore_frozen_environ() -> None:
    """Undo the bootloader's LD_LIBRARY_PATH, so programs we start (shell jobs, the browser) use the
    system's libraries and not the ones bundled in `sys._MEIPASS` (PyInstaller, "Launching External
    Programs"). Safe for this process: the dynamic loader read LD_LIBRARY_PATH when it started.
    A child that is the binary again gets its own from its own bootloader.
    """
    if not is_frozen():
        return
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is not None:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)
