"""No import cycles in ``service/``: between its packages, or its root modules.

Every import counts, at module level or inside a function (a function-level import hides a
cycle from the interpreter, not from a reader). A module inside a package stands for its
package (``service.api.routes.ops`` is ``service.api``); a module at the root stands for
itself (``service.briefing``). ``python tests/test_import_cycles.py`` prints the graph's
cycles.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "service"

Edges = dict[str, dict[str, list[str]]]  # unit -> imported unit -> "file:line" where


def unit_of(module: str) -> str | None:
    """The package or root module ``module`` belongs to; None outside ``service``."""
    parts = module.split(".")
    if parts[0] != PACKAGE or len(parts) < 2:
        return None
    return ".".join(parts[:2])


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The modules an import statement names (``from a import b`` names ``a.b`` too, which
    is a module when ``b`` is one)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = module.split(".")
        if not is_package:
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, *([node.module] if node.module else [])])
    else:
        target = node.module or ""
    return [target, *(f"{target}.{alias.name}" for alias in node.names)]


def import_graph() -> Edges:
    """Edges between units, each with where the import is written."""
    edges: Edges = defaultdict(lambda: defaultdict(list))
    modules = {_module_name(p) for p in (ROOT / PACKAGE).rglob("*.py")}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        module = _module_name(path)
        source = unit_of(module)
        if source is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in _imported(node, module, path.name == "__init__.py"):
                if name not in modules and name.rsplit(".", 1)[0] not in modules:
                    continue
                target = unit_of(name)
                if target is not None and target != source:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    if where not in edges[source][target]:
                        edges[source][target].append(where)
    return edges


def cycles(edges: Edges) -> list[list[str]]:
    """The graph's cycles: one shortest cycle through each edge that lies on one, each
    cycle once (rotated to start at its least unit)."""
    found: set[tuple[str, ...]] = set()
    for source, targets in edges.items():
        for target in targets:
            path = _shortest_path(edges, target, source)
            if path is None:
                continue
            cycle = [source, *path[:-1]]
            start = cycle.index(min(cycle))
            found.add(tuple(cycle[start:] + cycle[:start]))
    return [list(cycle) for cycle in sorted(found, key=lambda c: (len(c), c))]


def _shortest_path(edges: Edges, start: str, goal: str) -> list[str] | None:
    previous: dict[str, str | None] = {start: None}
    queue = [start]
    for node in queue:
        if node == goal:
            path = [node]
            while previous[path[-1]] is not None:
                path.append(previous[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for nxt in edges.get(node, {}):
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return None


def describe(edges: Edges, cycle: list[str]) -> str:
    steps = []
    for index, unit in enumerate(cycle):
        nxt = cycle[(index + 1) % len(cycle)]
        steps.append(f"  {unit} -> {nxt}  ({', '.join(edges[unit][nxt])})")
    return " -> ".join([*cycle, cycle[0]]) + "\n" + "\n".join(steps)


def test_no_import_cycles_between_packages_or_root_modules() -> None:
    edges = import_graph()
    assert edges, "no imports found: is ROOT right?"
    found = cycles(edges)
    assert not found, f"{len(found)} import cycle(s):\n" + "\n".join(
        describe(edges, cycle) for cycle in found
    )


def test_the_graph_sees_imports_inside_functions(tmp_path: Path) -> None:
    source = "def f():\n    from service.config import Settings\n    return Settings\n"
    tree = ast.parse(source)
    names = [n for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             for n in _imported(node, "service.x", False)]
    assert unit_of(names[0]) == "service.config"
    assert cycles({"service.a": {"service.b": ["a:1"]}, "service.b": {"service.a": ["b:1"]}}
                  ) == [["service.a", "service.b"]]


if __name__ == "__main__":
    graph = import_graph()
    all_cycles = cycles(graph)
    for one in all_cycles:
        print(describe(graph, one))
    print(f"{len(all_cycles)} cycle(s)")
