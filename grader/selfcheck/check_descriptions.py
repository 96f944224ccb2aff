"""What a public check is about, read from its source: the functions it calls, and its hint.

A student's table says which *function* fails, not only which check. The checks
are read, never run, here: ``student.sign(...)`` names ``sign``;
``student.keep("SGD", ...)`` and helpers called as ``helper(student, "name")``
name what they build or inspect. A check's docstring, written for students, is
its hint:

    @pytest.mark.points(1)
    def test_sign_of_negative_zero_positive(student):
        \"\"\"sign(0) must be 0, not 1: test z == 0 on its own.\"\"\"
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# The Student fixture's own methods (grader/sandbox/remote.py), which are not the submission's.
STUDENT_API = frozenset({"keep", "lib", "put", "no_grad", "defines", "source_cells", "seed"})
# Of those, the ones whose first argument names a function or class of the submission.
NAMING_METHODS = frozenset({"keep", "defines"})


@dataclass(frozen=True)
class CheckInfo:
    """One public check as a student sees it: what it exercises, and what to look at."""

    name: str
    functions: tuple[str, ...] = ()
    hint: str = ""


def describe(folder: Path) -> dict[str, CheckInfo]:
    """Every check in the ``test_*.py`` files of ``folder``, by test function name."""
    checks: dict[str, CheckInfo] = {}
    for path in sorted(Path(folder).glob("test_*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                checks[node.name] = CheckInfo(node.name, functions_used(node), _hint(node))
    return checks


def lookup(checks: Mapping[str, CheckInfo], test_name: str) -> CheckInfo:
    """The check behind a result's test name (``Class::test_x[param]`` -> ``test_x``)."""
    base = test_name.split("::")[-1].split("[")[0]
    return checks.get(base, CheckInfo(base))


def functions_used(node: ast.AST) -> tuple[str, ...]:
    """The submission's names a test reaches, in the order they first appear."""
    found: list[tuple[int, int, str]] = []
    for child in ast.walk(node):
        name = _student_attribute(child) or _named_in_call(child)
        if name and isinstance(child, ast.expr):  # both name only an Attribute or a Call
            found.append((child.lineno, child.col_offset, name))
    return tuple(dict.fromkeys(name for *_, name in sorted(found)))


def _student_attribute(node: ast.AST) -> str | None:
    """``student.relu`` -> ``relu``; the fixture's own methods are not the student's."""
    if isinstance(node, ast.Attribute) and _is_student(node.value) and node.attr not in STUDENT_API:
        return node.attr
    return None


def _named_in_call(node: ast.AST) -> str | None:
    """``student.keep("SGD", ...)`` and ``helper(student, "dense_backward")`` -> the string."""
    if not isinstance(node, ast.Call):
        return None
    func, args = node.func, node.args
    if isinstance(func, ast.Attribute) and _is_student(func.value) and func.attr in NAMING_METHODS:
        return _string(args[0]) if args else None
    for first, second in zip(args, args[1:], strict=False):
        if _is_student(first):
            return _string(second)
    return None


def _is_student(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "student"


def _string(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
        return node.value
    return None


def _hint(node: ast.FunctionDef) -> str:
    """The first paragraph of the check's docstring, on one line."""
    doc = ast.get_docstring(node) or ""
    return " ".join(doc.split("\n\n")[0].split())
