"""No import cycles between the project's modules, `TYPE_CHECKING` and function-level
imports included: a cycle hidden behind either still means neither module can be read,
tested or moved without the other. And the running bot never loads the development
homeserver (bot/dev_homeserver.py), which only `opsroom up`, tests and benchmarks use.

`bot/`, `exports/` and the benchmarks import the commands package's public surface
(`commands/__init__.py`) only, so the framework and the handlers can be rearranged without
touching them.
"""

from __future__ import annotations

import ast
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("storage", "bot", "exports", "commands")
DEV_ONLY = "bot.dev_homeserver"


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


def test_bot_and_exports_use_only_the_public_surface_of_commands() -> None:
    graph = import_graph((*PACKAGES, "bench"))
    reaching_in = {f"{name} → {target}" for name, targets in graph.items()
                   if name.split(".")[0] in ("bot", "exports", "bench")
                   for target in targets if target.startswith("commands.")}
    assert not reaching_in, "import from `commands` instead: " + ", ".join(sorted(reaching_in))


def test_the_command_framework_knows_no_handler() -> None:
    """commands/core/ is what every handler builds on; a handler is found through the
    registry, so adding or removing one never touches the framework."""
    graph = import_graph(PACKAGES)
    reaching_out = {f"{name} → {target}" for name, targets in graph.items()
                    if name.startswith("commands.core.")
                    for target in targets
                    if target.startswith("commands.") and not target.startswith("commands.core.")}
    assert not reaching_out, "the framework imports handlers: " + ", ".join(sorted(reaching_out))


def reachable(graph: dict[str, set[str]], start: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph[module])
    return seen


def test_nothing_the_bot_runs_imports_the_dev_homeserver() -> None:
    graph = import_graph(PACKAGES)
    # What `opsroom run` loads (bot.cli's other commands load their own modules lazily;
    # `opsroom up` is the one meant to start a homeserver).
    run = reachable(graph, {"bot.runtime", "bot.services", "bot.crypto.cross_signing"})
    assert "bot.scheduler" in run and "commands.core.dispatcher" in run
    assert DEV_ONLY not in run
    assert DEV_ONLY in graph["bot.up"]


def test_opsroom_run_loads_neither_the_dev_homeserver_nor_the_export_libraries(
        tmp_path: Path) -> None:
    """The export libraries (some 70 MB) belong in the export workers, not the bot."""
    data = tmp_path / "data"
    data.mkdir()
    # A database from a far newer opsroom stops the run right after the bot is built and
    # before any network request, so no homeserver is needed to walk the path.
    with sqlite3.connect(data / "opsroom.db") as raw:
        raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        raw.execute("INSERT INTO schema_version VALUES (1000000)")
    config = tmp_path / "config.toml"
    config.write_text('[matrix]\nhomeserver = "http://127.0.0.1:9"\nuser_id = "@b:localhost"\n'
                      f'password = "x"\n[storage]\ndata_dir = "{data}"\n'
                      '[access]\nallowed_inviters = ["@*:localhost"]\n')
    script = ("import json, sys\nfrom bot.cli import main\n"
              f"code = main(['run', '-c', {str(config)!r}])\n"
              "print(json.dumps([code, sorted(sys.modules)]))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    code, modules = json.loads(result.stdout.splitlines()[-1])
    assert code == 2 and "is at version 1000000" in result.stderr
    assert {"bot.runtime", "bot.services", "storage.database"} <= set(modules)
    assert DEV_ONLY not in modules
    assert not {"matplotlib", "pymisp", "reportlab", "stix2"} & set(modules)
