"""a3's rule, "gradients by hand", checked in the submission's source on the trusted side.

The check reads the notebook's code (never the worker's word for it): from each
graded function it follows the top-level names that function uses (helpers,
classes, imported modules) and reports every use of autograd on the way. Only
code a graded function can reach counts, so a student may still call
``backward()`` in an experiment cell to check their own work.

A submission that hides autograd from this reading (``getattr`` with a computed
name, ``globals()`` lookups) still meets the second line of defence: a3's hidden
tests call into the worker under ``torch.no_grad()``, where ``backward()`` fails.
That line does not hold against ``torch.enable_grad()``, ``torch.func`` or
``torch.autograd.functional`` (they work under ``no_grad``), so these are only
caught when their names are written out.

Names are resolved the way Python resolves them: a function's parameters and
locals are its own (an experiment cell's ``x = torch.randn(3).requires_grad_()``
is not the ``x`` of ``dense_backward(dout, x, W)``), and a module-level name
means its last top-level binding, as it does when a function runs. (A dict of
functions built at top level before a later redefinition holds the earlier one;
that reordering escapes this reading, though not ``no_grad``.) Attributes that
the submission's own classes define (a ``Layer.backward`` method, a ``self.grad``
field) are the student's, not autograd's.
"""

from __future__ import annotations

import ast
import symtable
from collections.abc import Iterable, Set

# Attribute names that only autograd gives meaning to: x.backward(), torch.autograd, ...
ATTRIBUTES = frozenset(
    {
        "backward",
        "autograd",
        "grad",
        "requires_grad",
        "requires_grad_",
        "retain_grad",
        "enable_grad",
        "set_grad_enabled",
        "grad_fn",
        "vjp",
        "jvp",
        "jacrev",
        "jacfwd",
        "jacobian",
        "hessian",
        "functional_call",
    }
)
MODULES = ("torch.autograd", "torch.func", "functorch")
NAMES = frozenset({"autograd", "functorch"})


def autograd_uses(cells: list[str], names: Iterable[str]) -> list[str]:
    """Where the graded ``names`` (and what they reach) use autograd, one line per use."""
    reached = _reachable(_top_level_definitions(cells), names)
    own = _own_attributes(node for node, _ in reached.values())
    findings = [
        f"`{name}` (cell {cell + 1}, line {line}): {what}"
        for name, (node, cell) in reached.items()
        for line, what in _uses(node, own)
    ]
    return sorted(set(findings))


def assert_no_autograd(student, *names: str) -> None:
    """Fail with the reason when a graded function computes its gradients with autograd."""
    findings = autograd_uses(student.source_cells, names)
    if findings:
        shown = "\n  ".join(findings[:8])
        raise AssertionError(
            f"autograd is not allowed in this assignment: compute the gradients of "
            f"{', '.join(names)} by hand (no backward(), torch.autograd, torch.func or "
            f"requires_grad in graded code or in the helpers it calls). Found:\n  {shown}"
        )


def _top_level_definitions(cells: list[str]) -> dict[str, tuple[ast.AST, int]]:
    """Name -> (the statement that last binds it at top level, its cell index)."""
    bound: dict[str, tuple[ast.AST, int]] = {}
    for index, source in enumerate(cells):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # the worker skips such a cell too (its magics are not Python either)
        for node in tree.body:
            for name in _bound_names(node):
                bound[name] = (node, index)
    return bound


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.ImportFrom):
        return [alias.asname or alias.name for alias in node.names]
    if isinstance(node, ast.Import):  # `import torch.autograd` binds `torch`, not autograd itself
        return [alias.asname or alias.name for alias in node.names if alias.asname or "." not in alias.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def _reachable(definitions: dict[str, tuple[ast.AST, int]], names: Iterable[str]) -> dict:
    """The definitions of ``names`` and of every module-level name they read, transitively."""
    reached: dict[str, tuple[ast.AST, int]] = {}
    todo = [n for n in names if n in definitions]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached[name] = definitions[name]
        todo += [n for n in _global_names(definitions[name][0]) if n in definitions and n not in reached]
    return reached


def _global_names(node: ast.AST) -> set[str]:
    """The module-level names ``node`` reads, by Python's own scoping rules (``symtable``)."""
    try:
        top = symtable.symtable(ast.unparse(node), "<cell>", "exec")
    except (SyntaxError, ValueError):
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}  # code the compiler rejects
    names: set[str] = set()
    tables = [top]
    while tables:
        table = tables.pop()
        tables += table.get_children()
        names |= {s.get_name() for s in table.get_symbols() if s.is_referenced() and s.is_global()}
    return names


def _own_attributes(nodes: Iterable[ast.AST]) -> set[str]:
    """Attribute names the submission's own classes define: methods, class fields, ``self.x = ...``."""
    own: set[str] = set()
    for cls in (n for n in nodes if isinstance(n, ast.ClassDef)):
        for n in ast.walk(cls):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                own.add(n.name)
            elif isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store) and _is_name(n.value, "self"):
                own.add(n.attr)
        own |= {name for stmt in cls.body for name in _bound_names(stmt)}
    return own


def _uses(node: ast.AST, own: Set[str] = frozenset()) -> list[tuple[int, str]]:
    """(line, description) of every autograd construct inside ``node``.

    ``own``: attribute names the submission defines itself, which are not autograd's.
    """
    found = []
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and n.attr in ATTRIBUTES - own:
            found.append((n.lineno, f"uses .{n.attr}"))
        elif isinstance(n, ast.keyword) and n.arg in ATTRIBUTES:
            found.append((n.lineno, f"passes {n.arg}="))
        elif isinstance(n, ast.Attribute) and n.attr == "func" and _is_name(n.value, "torch"):
            found.append((n.lineno, "uses torch.func"))
        elif isinstance(n, ast.Name) and n.id in NAMES:
            found.append((n.lineno, f"uses {n.id}"))
        elif isinstance(n, (ast.Import, ast.ImportFrom)) and _imports_autograd(n):
            found.append((n.lineno, "imports " + _import_text(n)))
        elif isinstance(n, ast.Call) and (looked_up := _reflected_on_autograd(n, own)):
            found.append((n.lineno, f"looks up {looked_up!r} by name"))
    return found


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _imports_autograd(node: ast.Import | ast.ImportFrom) -> bool:
    modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    if isinstance(node, ast.ImportFrom) and node.module == "torch":
        modules += [f"torch.{a.name}" for a in node.names]
    return any(m == mod or m.startswith(mod + ".") for m in modules for mod in MODULES)


def _import_text(node: ast.Import | ast.ImportFrom) -> str:
    names = ", ".join(a.name for a in node.names)
    return names if isinstance(node, ast.Import) else f"{names} from {node.module}"


def _reflected_on_autograd(node: ast.Call, own: Set[str]) -> str | None:
    """``getattr(x, "backward")`` and the like: the constant name, when only autograd uses it."""
    if (
        isinstance(node.func, ast.Name)
        and node.func.id in {"getattr", "setattr", "hasattr"}
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value in (ATTRIBUTES - own) | NAMES
    ):
        return node.args[1].value
    return None
