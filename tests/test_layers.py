"""The import graph stays a tree of layers (docs/architecture.md).

`./dev test` runs import-linter's contracts (pyproject.toml): handlers → jobs → bot, and
the layers inside each. These tests add what a layers contract cannot see: no cycle at
all between modules, imports inside functions counted, and package `__init__` modules
that run no imports (importing `a.b.c` runs `a/__init__` and `a/b/__init__` first, so an
`__init__` that imported its children would tie every sibling to every other).
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOTS = ("bot", "handlers", "jobs")
TOP = Path(__file__).resolve().parent.parent


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm, iteratively: the groups of modules that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[set[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups


def test_no_module_takes_part_in_an_import_cycle() -> None:
    graph = grimp.build_graph(*ROOTS, cache_dir=None)
    cycles = [sorted(group) for group in strongly_connected(graph) if len(group) > 1]
    assert cycles == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    groups = [g for g in strongly_connected(graph) if len(g) > 1]
    assert groups == [{"a.x", "a.y"}]


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def test_package_inits_hold_only_their_docstring() -> None:
    busy = []
    for root in ROOTS:
        for init in sorted((TOP / root).rglob("__init__.py")):
            body = ast.parse(init.read_text()).body
            if any(
                not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)) for n in body
            ):
                busy.append(str(init.relative_to(TOP)))
    assert busy == []
