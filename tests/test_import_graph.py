"""The kit's packages import each other without cycles, the core imports none of them, and the readers of the
data (training, eval, assist) share what they need through the core, not through each other or the builder.

Every `import` / `from ... import` in every module is read with `ast`, including the lazy imports inside
functions (a lazy import hides a cycle from Python, not from a reader). Relative imports stay inside their
package. The graph is between top-level packages: `eval` importing `training` is an edge eval -> training.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = "redditess_core"
KIT_PACKAGES = (CORE, "dataset_builder", "training", "eval", "cards", "publish", "assist")
# Scripts and tests may import any package; nothing of the kit may import them.
TOOLS = ("benchmarks", "tests")

# Imports that are not cycles today but are how the drift of issue 12 started: the data's readers take the
# contract, prompts, loader, encoder and classifier pieces from the core, and eval uses no training code.
FORBIDDEN = {
    ("eval", "training"),
    ("training", "eval"),
    ("eval", "dataset_builder"),
    ("training", "dataset_builder"),
    ("assist", "dataset_builder"),
    ("assist", "training"),
    ("assist", "eval"),
    ("dataset_builder", "eval"),
    ("dataset_builder", "training"),
}


def imported_modules(path: Path) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import in a file, at any depth (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
    return found


def package_edges(packages: tuple[str, ...] = KIT_PACKAGES) -> dict[tuple[str, str], list[str]]:
    """{(importer, imported): ["file:line module", ...]} between distinct top-level packages."""
    known = set(packages) | set(TOOLS)
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            for module, line in imported_modules(path):
                top = module.split(".")[0]
                if top in known and top != package:
                    edges[(package, top)].append(f"{path.relative_to(ROOT)}:{line} {module}")
    return dict(edges)


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Every elementary cycle's node list, found by depth-first search from each node (small graph)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    found: set[tuple[str, ...]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == start:
                i = path.index(min(path))  # one rotation per cycle
                found.add(tuple(path[i:] + path[:i]))
            elif nxt not in path and nxt > start:
                walk(start, nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return [list(c) for c in sorted(found)]


def test_the_core_imports_nothing_of_the_kit() -> None:
    edges = package_edges()
    core_imports = {b: sites for (a, b), sites in edges.items() if a == CORE}
    assert not core_imports, f"{CORE} must import no kit package: {core_imports}"


def test_no_package_imports_one_that_imports_it_back() -> None:
    edges = package_edges()
    found = cycles(set(edges))
    detail = {
        " -> ".join([*c, c[0]]): [edges[(a, b)] for a, b in zip(c, [*c[1:], c[0]], strict=True)]
        for c in found
    }
    assert not found, f"import cycles between packages: {detail}"


def test_readers_of_the_data_share_through_the_core() -> None:
    edges = package_edges()
    bad = {edge: sites for edge, sites in edges.items() if edge in FORBIDDEN}
    assert not bad, f"use redditess_core instead: {bad}"


def test_kit_packages_never_import_scripts_or_tests() -> None:
    edges = package_edges()
    bad = {edge: sites for edge, sites in edges.items() if edge[1] in TOOLS}
    assert not bad, f"packages importing benchmarks/tests: {bad}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    from eval.encoder import embed\n", [("eval.encoder", 2)]),  # lazy import
        ("import training.data as d, json\n", [("training.data", 1), ("json", 1)]),
        ("from . import sibling\nfrom .x import y\n", []),  # relative: inside the package
        ("if TYPE_CHECKING:\n    import cards.validate\n", [("cards.validate", 2)]),
    ],
)
def test_imported_modules_sees_every_import(tmp_path: Path, source: str, expected: list) -> None:
    path = tmp_path / "m.py"
    path.write_text(source)
    assert imported_modules(path) == expected


def test_cycles_finds_direct_and_longer_cycles() -> None:
    assert cycles({("a", "b"), ("b", "a")}) == [["a", "b"]]
    assert cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]
    assert cycles({("a", "b"), ("b", "c")}) == []
