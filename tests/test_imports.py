"""No import cycles between the project's modules, `TYPE_CHECKING` and function-level
imports included: a cycle hidden behind either still means neither module can be read,
tested or moved without the other.

`commands` joins PACKAGES once the command framework has moved to `commands/core/`
(issue 10); until then its known cycles would fail this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("storage", "bot", "exports")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(packages: tuple[str, ...]) -> dict[str, Path]:
    return {module_name(p): p for package in packages for p in (ROOT / package).rglob("*.py")}


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `name` imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + is_package]
                base = ".".join([*anchor, base] if base else anchor)
            # `from storage import audit` imports the module storage.audit
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import a.b.c` runs a.b.c's package
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def import_graph(packages: tuple[str, ...]) -> dict[str, set[str]]:
    known = project_modules(packages)
    return {name: imported(name, path, known) for name, path in known.items()}


def test_the_graph_sees_type_checking_and_function_level_imports() -> None:
    graph = import_graph(PACKAGES)
    assert "bot.runtime" in graph["bot.cli"]  # imported inside run_bot
    assert "storage.audit" in graph["bot.cli"]  # under TYPE_CHECKING


def test_no_import_cycles() -> None:
    found = cycles(import_graph(PACKAGES))
    assert not found, "import cycles: " + "; ".join(" ↔ ".join(c) for c in found)
