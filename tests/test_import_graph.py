"""The module graph of ``cta``: no import cycles (between modules or between packages), adapters
that do not wire, and a domain and ports that import no adapter.

Every import counts, also the ones inside functions and under ``TYPE_CHECKING``: a lazy import
hides a cycle from the interpreter, not from the reader.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import cta

PACKAGE_ROOT = Path(cta.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE_ROOT.rglob("*.py"):
        parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _ancestors(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _imports(name: str, path: Path) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = {f"{base}.{a.name}" for a in node.names} & MODULES.keys()
            imported.update(submodules)
            if len(submodules) < len(node.names):
                imported.add(base)
    # Importing a submodule through its parent package ("from cta.stack import artifacts")
    # initialises the parent anyway: not an edge of the design.
    return {m for m in imported if m in MODULES and m != name and m not in _ancestors(name)}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def package_of(module: str) -> str:
    """``cta.memory.broker`` -> ``cta.memory``; top-level modules are their own package."""
    return ".".join(module.split(".")[:2])


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package_graph() -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        for target in targets:
            if package_of(module) != package_of(target):
                packages.setdefault(package_of(module), set()).add(package_of(target))
    return packages


def _importers_of(prefixes: tuple[str, ...], among: str) -> Iterator[tuple[str, str]]:
    for module, targets in GRAPH.items():
        if module == among or module.startswith(among + "."):
            for target in targets:
                if target.startswith(prefixes):
                    yield module, target


def test_the_graph_sees_known_edges() -> None:
    # A check that finds nothing must still be looking: these edges exist.
    assert "cta.memory.consumer" in GRAPH["cta.memory.broker"]
    assert "cta.bootstrap.memory" in GRAPH["cta.bootstrap"]


def test_no_module_import_cycle() -> None:
    assert _cycles(GRAPH) == []


def test_no_package_import_cycle() -> None:
    assert _cycles(_package_graph()) == []


ADAPTER_PACKAGES = ("cta.memory", "cta.kafka", "cta.connect", "cta.ksql", "cta.rest_proxy")


def test_the_memory_adapters_do_not_wire_a_backend() -> None:
    others = (*(p for p in ADAPTER_PACKAGES if p != "cta.memory"), "cta.bootstrap")
    others = (*others, "cta.processors")
    assert list(_importers_of(others, "cta.memory")) == []


def test_ports_and_domain_import_no_adapter() -> None:
    adapters = (*ADAPTER_PACKAGES, "cta.bootstrap", "cta.backend")
    assert list(_importers_of(adapters, "cta.ports")) == []
    assert list(_importers_of(adapters, "cta.domain")) == []
