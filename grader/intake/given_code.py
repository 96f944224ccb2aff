"""What the handout of an assignment tells the loader: its graded names and its given code.

The handout is the source notebook (``source/aN/*.ipynb``), or, where a course has none
(a student's bundle), the student notebook (``assignments/aN/*.ipynb``). From it:

  graded   every name it defines with ``def`` or ``class``: what a suite may call.
           The loader runs a notebook's top-level statements that these names need
           (``sandbox/child/needs.py``), and skips the rest.
  given    its code cells without the statements that hold a solution (a
           ``### BEGIN SOLUTION`` region, or the stub the student notebook has there).
           What is left is what students were given: a3's forward pass, a helper, an
           import. Where a notebook lacks a given definition that graded code needs, the
           worker runs the handout's own (``sandbox/child/loading.py``), and says so in a note:
           no student loses points for code they were not asked to write.

This reads the course's own files on the trusted side; nothing here runs them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from grader.course.layout import Course
from grader.errors import NotebookError
from grader.intake.notebook import read_cells
from grader.sandbox.child.magics import neutralise_magics

# A line that marks a solution: the source notebook's region start, or the stub that
# ``dlgrade assign`` leaves in its place in the student notebook.
SOLUTION_LINE = re.compile(r"^\s*(### BEGIN SOLUTION|raise NotImplementedError(\(\))?)\s*$")
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Handout:
    graded: tuple[str, ...] = ()
    given: tuple[str, ...] = ()


def read_handout(course: Course, assignment: str) -> Handout | None:
    """The handout of ``assignment`` in ``course``, or None where the course has no notebook for it."""
    notebooks = course.handout_notebooks(assignment)
    return handout_of(notebooks) if notebooks else None


def handout_of(notebooks: list[Path]) -> Handout:
    graded: dict[str, None] = {}  # a dict keeps the notebook's order
    given: list[str] = []
    for path in notebooks:
        try:
            cells = read_cells(path)
        except NotebookError:
            continue
        for cell in cells:
            source, _changed = neutralise_magics(cell)
            tree = _parse(source) if source is not None else None
            if source is None or tree is None:
                continue
            graded.update((node.name, None) for node in tree.body if isinstance(node, _DEFINITIONS))
            given.append(given_code(source, tree))
    return Handout(graded=tuple(graded), given=tuple(given))


def given_code(source: str, tree: ast.Module) -> str:
    """``source`` with every top-level statement that holds a solution blanked (line numbers kept)."""
    lines = source.splitlines()
    for node in tree.body:
        span = range(_first_line(node) - 1, node.end_lineno or _first_line(node))  # None: never from a parse
        if any(SOLUTION_LINE.match(lines[i]) for i in span):
            for i in span:
                lines[i] = ""
    return "\n".join(lines)


def _first_line(node: ast.stmt) -> int:
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
