"""The layering, read from the source: reference <- backends <- conformance <-
reports, no package importing a higher one, no import cycle between modules,
and no long functions in the harness (conformance/, reports/)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("reference", "backends", "conformance", "reports")
#: The one module allowed to import every layer: the command line's composition root.
COMPOSITION_ROOT = "conformance.cli"
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, ast.Module]:
    return {
        _module_name(path): ast.parse(path.read_text(), str(path))
        for layer in LAYERS
        for path in sorted((ROOT / layer).rglob("*.py"))
    }


def _imports(name: str, tree: ast.Module, modules: set[str]) -> set[str]:
    """Our modules ``name`` imports anywhere (deferred imports in functions too)."""
    found = set()
    package = name if (ROOT / name.replace(".", "/") / "__init__.py").exists() else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    sources = _sources()
    return {name: _imports(name, tree, set(sources)) for name, tree in sources.items()}


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def test_no_layer_imports_a_higher_one():
    upward = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if module != COMPOSITION_ROOT
        for target in targets
        if _layer(target) > _layer(module)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    graph = _graph()
    # a package's __init__ re-exporting its own submodules is no cycle
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


def test_the_checker_finds_an_upward_import(tmp_path):
    tree = ast.parse("from conformance.cases import Case\nimport reports.summary\n")
    found = _imports("backends.fake", tree, {"conformance.cases", "reports.summary", "backends.fake"})
    assert found == {"conformance.cases", "reports.summary"}
    assert all(_layer(t) > _layer("backends.fake") for t in found)


def test_harness_functions_are_short():
    long = []
    for layer in ("conformance", "reports"):
        for path in sorted((ROOT / layer).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    length = node.end_lineno - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length} lines")
    assert not long, "\n".join(long)
