"""Layers point one way (docs/design.md, "Layers"): the web package calls the domain, never the reverse,
and no two modules import each other, directly or around a loop.

The graph is read from the source (every import statement, at module level or inside a function,
`if TYPE_CHECKING` blocks included), so an import hidden in a function to dodge a cycle still counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "vcore_app"
# The one place that assembles the web app (the CLI's `serve` reaches it through launcher.py -> app.py).
MAY_IMPORT_WEB = frozenset({"vcore_app.app"})


def _module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


MODULES = _module_names()


def _known(name: str) -> str | None:
    """The module of ours that `name` is, or is in (`vcore_app.db.session` -> `vcore_app.db`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> set[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(filter(None, (_known(alias.name) for alias in node.names)))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:  # `from vcore_app import db` imports the module vcore_app.db
                target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                if (known := _known(target)) is not None:
                    found.add(known)
    found.discard(module)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path a -> b -> ... -> a) through each group of modules that import each other."""
    cycles: list[list[str]] = []
    state: dict[str, str] = {}  # "open" while on the current path, "done" once fully explored
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return cycles


def test_the_graph_sees_imports_inside_functions() -> None:
    """cli.py imports what a command needs inside the command; the test must see those too."""
    assert "vcore_app.users" in GRAPH["vcore_app.cli"]
    assert "vcore_app.launcher" in GRAPH["vcore_app.cli"]


def test_nothing_outside_the_web_package_imports_it() -> None:
    offenders = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if target.startswith("vcore_app.web")
        and not module.startswith("vcore_app.web")
        and module not in MAY_IMPORT_WEB
    )
    assert offenders == [], "the domain must not depend on the web layer:\n" + "\n".join(offenders)


def test_no_module_imports_itself_around_a_loop() -> None:
    cycles = _cycles(GRAPH)
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_a_cycle_is_found_and_shown_with_its_path() -> None:
    """The check above cannot pass by being blind."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
