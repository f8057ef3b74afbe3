"""Imports only run down the layers, and no module imports itself back through others (no circle), lazy imports
(inside functions) included: the source is read with ``ast``, nothing is imported.

The layers, bottom to top (docs/design.md, 'Package layout'):

    base       errors, paths, io, extras, config (the loader), distributed, runtime, splits, stats, records, rundir
    configs    every ``config.py`` (a stage's, data's, model's, ...) and rounds_config.py
    run        run_config.py (the run's config: every section) and stage.py (Stage and Context)
    library    everything else of the packages: data, models, generation, metrics, empathy, the stages' code ...
    pipeline   pipeline/ (the stage lists, the one runner, rounds, the launcher)
    commands   every ``commands.py``, stage_cli.py, label/__main__.py: the command-line layer under cli.py
    cli        cli.py
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "empathic_rlhf"
LAYERS = ("base", "configs", "run", "library", "pipeline", "commands", "cli")
BASE = {"errors", "paths", "io", "extras", "config", "distributed", "runtime", "splits", "stats", "records", "rundir"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts or (len(parts) == 1 and parts[0] in BASE):
        return "base"
    if parts[-1] == "config" or parts == ["rounds_config"]:
        return "configs"
    if parts in (["run_config"], ["stage"]):
        return "run"
    if parts == ["cli"]:
        return "cli"
    if parts[-1] in ("commands", "__main__") or parts == ["stage_cli"]:
        return "commands"
    return "pipeline" if parts[0] == "pipeline" else "library"


def imports() -> dict[str, set[tuple[str, int]]]:
    """Every module of the package -> the package's modules it imports (with the line), at any depth."""
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}

    def known(name: str) -> str | None:
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    found: dict[str, set[tuple[str, int]]] = {}
    for module, path in paths.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = ".".join([*package[: len(package) - node.level + 1], node.module or ""]).strip(".") \
                    if node.level else node.module or ""
                names = [f"{base}.{alias.name}" for alias in node.names]
                targets |= {(known(n) if n in paths else known(base), node.lineno) for n in names}
            elif isinstance(node, ast.Import):
                targets |= {(known(alias.name), node.lineno) for alias in node.names}
        found[module] = {(t, line) for t, line in targets if t and t != module and t.startswith("empathic_rlhf")}
    return found


def test_the_layers_cover_the_package():
    assert {layer(m) for m in imports()} == set(LAYERS)
    assert layer("empathic_rlhf.sft.commands") == "commands" and layer("empathic_rlhf.models.config") == "configs"


def test_imports_only_run_down_the_layers():
    upward = sorted(f"{module}:{line} imports {target} ({layer(module)} -> {layer(target)})"
                    for module, targets in imports().items() for target, line in targets
                    if LAYERS.index(layer(target)) > LAYERS.index(layer(module)))
    assert upward == []


def test_no_import_circles():
    graph = {module: {target for target, _ in targets} for module, targets in imports().items()}
    circles, index, low, stack, on_stack = [], {}, {}, [], set()

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert circles == []
