"""The engine's modules import each other without a cycle.

The graph is read from the source (``ast``), nothing is imported, so this runs in a
fraction of a second and starts no worker. Module names come from file paths, so the
test keeps working when modules move into packages. Imports under ``if TYPE_CHECKING:``
never run and do not count; an import inside a function does: it is a cycle that waits.
"""

import ast
import graphlib
from pathlib import Path

from support import ROOT

PACKAGE = ROOT / "grader"


def module_names(package: Path) -> dict[str, Path]:
    names = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _runs(tree: ast.AST):
    """Every node, leaving out the bodies of ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            yield from (n for child in node.orelse for n in [child, *_runs(child)])
            continue
        yield node
        yield from _runs(node)


def imported(name: str, path: Path) -> set[str]:
    """The modules (and ``module.name`` candidates) that ``path`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _runs(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [node.module])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def import_graph(package: Path) -> dict[str, set[str]]:
    modules = module_names(package)
    return {
        name: {m for m in imported(name, path) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_the_engine_has_no_import_cycle():
    graph = import_graph(PACKAGE)
    assert len(graph) > 40  # the graph was read: a test that sees no module proves nothing
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_a_cycle_is_found_and_named(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from pkg import a\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n"
    )
    graph = import_graph(package)
    assert graph["pkg.c"] == set()  # only for the type checker: never runs
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        assert set(exc.args[1]) == {"pkg.a", "pkg.sub.b"}
    else:
        raise AssertionError("the cycle pkg.a -> pkg.sub.b -> pkg.a was not found")
