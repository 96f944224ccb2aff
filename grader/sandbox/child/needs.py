"""Which top-level statements graded code needs: the loader's plan for a notebook.

Grading does not run a notebook's experiments (training runs, plots), but it must run
what graded functions use when they are called: a dispatch table
``ACTS = {"relu": relu, "sigmoid": lambda z: torch.sigmoid(z)}``, a loss object
``criterion = nn.CrossEntropyLoss()``, a constant ``EPS = torch.tensor(1e-8)``. The
shape of a statement does not tell them apart (all of these call something); what
tells them apart is whether a graded name depends on the name the statement binds.

    statements = [Statement.of(cell, node) for cell, tree in parsed for node in tree.body]
    plan = needed(statements, roots={"mlp_forward", "relu", ...})   # indices to run

A name's dependencies are the global names its binding statement reads, now or when
what it defines runs: a function's body, defaults, decorators and annotations, a
class's bases and methods, a lambda in a table, a comprehension. Scopes are Python's
own (``symtable``): a parameter or local ``x`` inside a graded function does not make
a top-level ``x = train(...)`` needed. Pure functions of the source, standard library
only: the worker imports this module from its own folder.
"""

from __future__ import annotations

import ast
import symtable
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    """One top-level statement, and the global names it binds and reads."""

    cell: int  # 1-based, as notes count cells
    node: ast.stmt
    binds: frozenset[str]
    uses: frozenset[str]
    updates: frozenset[str]  # names it changes in place: ``ACTS["gelu"] = gelu``, ``ACTS.update(...)``
    filename: str = "<cell>"  # where its code says it comes from (``<cell 3>``)

    @classmethod
    def of(cls, cell: int, node: ast.stmt, filename: str = "<cell>") -> Statement:
        binds, uses = _scoped_names(node)
        return cls(cell, node, binds, uses, frozenset(_updated_names(node)), filename)

    @property
    def is_import(self) -> bool:
        return isinstance(self.node, (ast.Import, ast.ImportFrom))

    @property
    def defines(self) -> frozenset[str]:
        """Names bound by ``def`` or ``class``: the graded names when no list is given."""
        if isinstance(self.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return frozenset({self.node.name})
        return frozenset()


def needed(statements: list[Statement], roots: Iterable[str]) -> set[int]:
    """Indices of the statements that bind (or change in place) a name the roots depend on,
    directly or through other such statements."""
    binders: dict[str, list[int]] = {}
    imported = {name for s in statements if s.is_import for name in s.binds}
    for index, statement in enumerate(statements):
        # ``plt.plot(...)`` changes nothing graded code reads through ``plt``; ``ACTS.update(...)`` does
        for name in statement.binds | (statement.updates - imported):
            binders.setdefault(name, []).append(index)
    chosen: set[int] = set()
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for index in binders.get(name, ()):
            if index not in chosen:
                chosen.add(index)
                todo.extend(statements[index].uses)
    return chosen


def _scoped_names(node: ast.stmt) -> tuple[frozenset[str], frozenset[str]]:
    """(names bound at top level, global names read anywhere inside), by Python's scoping.

    A statement ``symtable`` refuses (``return`` or ``await`` at top level, which a notebook
    may hold) binds nothing as far as the plan goes: it runs only if its shape allows.
    """
    try:
        table = symtable.symtable(ast.unparse(node), "<statement>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset(), frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
    symbols = table.get_symbols()
    binds = {s.get_name() for s in symbols if s.is_assigned() or s.is_imported()}
    uses = {s.get_name() for s in symbols if s.is_referenced()}
    return frozenset(binds), frozenset(uses | _global_reads(table))


def _global_reads(table: symtable.SymbolTable) -> set[str]:
    """Global names read inside the functions, lambdas, comprehensions and classes of ``table``."""
    names: set[str] = set()
    for child in table.get_children():
        names |= {s.get_name() for s in child.get_symbols() if s.is_global() and s.is_referenced()}
        names |= _global_reads(child)
    return names


def _updated_names(node: ast.stmt) -> set[str]:
    """Names whose value the statement changes without binding them: an item or attribute
    set or deleted (``ACTS["gelu"] = gelu``), a method called on the name (``ACTS.update(...)``),
    also inside a loop or block at top level (``for f in fs: ACTS[f.__name__] = f``), but
    not inside a function or class, which change nothing until they are called."""
    names = _changed_here(node)
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                names |= _updated_names(child)
    return names


def _changed_here(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.Assign, ast.Delete)):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):  # a method of a name
            return {func.value.id}
        return set()
    else:
        return set()
    names = set()
    for target in targets:
        base = target
        while isinstance(base, (ast.Subscript, ast.Attribute)):
            base = base.value
        if base is not target and isinstance(base, ast.Name):
            names.add(base.id)
    return names
