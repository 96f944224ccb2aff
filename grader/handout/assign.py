"""Make the student notebook from an annotated source notebook, as nbgrader does.

In a source notebook the solution sits between two marker lines:

    def relu(z):
        ### BEGIN SOLUTION
        return z.clamp(min=0)
        ### END SOLUTION

and the student sees ``raise NotImplementedError()`` at the same indentation. In a
markdown or raw cell (a written answer) the region becomes ``YOUR ANSWER HERE``.
nbgrader's ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` regions are removed
whole, in any cell.

A marker is exactly ``### BEGIN SOLUTION`` (or END, or HIDDEN TESTS) alone on its line.
Any other line that looks like one (``## BEGIN SOLUTION``, ``### BEGIN SOLUTION (relu)``,
``### begin solution``, ``# END HIDDEN TEST``) is an error that names the cell and the
line: read as text, it would leave the solution in the student's notebook.

Each step is a small pure function on a cell; ``TRANSFORMS`` lists them in order.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from grader.errors import DlgradeError

BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
BEGIN_HIDDEN = re.compile(r"^(\s*)### BEGIN HIDDEN TESTS\s*$")
END_HIDDEN = re.compile(r"^\s*### END HIDDEN TESTS\s*$")
MARKER_LIKE = re.compile(r"\b(?:BEGIN|END)[\s_-]*(?:SOLUTION|HIDDEN[\s_-]*TESTS?)", re.IGNORECASE)
"""Whatever a person may have meant as a marker: any case, any prefix, anything after."""
STUB = "raise NotImplementedError()"
ANSWER = "YOUR ANSWER HERE"


class MarkerError(DlgradeError):
    """A marker line the parser does not accept, or regions that do not pair up."""


def strip_solution(source: str, replacement: str = STUB) -> str:
    """Replace every solution region with ``replacement`` at the region's indentation, and
    drop every hidden-tests region. A marker-like line that is not a marker is an error."""
    out: list[str] = []
    region: str | None = None  # "solution" or "hidden" while inside one
    for number, line in enumerate(source.splitlines(), start=1):
        kind, opens = _marker(line, number)
        if kind is None:
            if region is None:
                out.append(line)
        elif opens:
            if region is not None:
                raise MarkerError(f"line {number}: {line.strip()!r} inside another region")
            region = kind
            if kind == "solution":
                out.append(_indentation(line) + replacement)
        elif region != kind:
            raise MarkerError(f"line {number}: {line.strip()!r} without its BEGIN")
        else:
            region = None
    if region is not None:
        name = "SOLUTION" if region == "solution" else "HIDDEN TESTS"
        raise MarkerError(f"a BEGIN {name} region is never closed")
    return "\n".join(out)


def _indentation(line: str) -> str:
    """A BEGIN line's leading whitespace (what ``BEGIN``'s group catches), for its stub."""
    return line[: len(line) - len(line.lstrip())]


def _marker(line: str, number: int) -> tuple[str | None, bool]:
    """(region kind, opens) of a marker line; (None, False) for any other line."""
    for pattern, kind, opens in (
        (BEGIN, "solution", True),
        (END, "solution", False),
        (BEGIN_HIDDEN, "hidden", True),
        (END_HIDDEN, "hidden", False),
    ):
        if pattern.match(line):
            return kind, opens
    if MARKER_LIKE.search(line):
        raise MarkerError(
            f"line {number}: {line.strip()!r} looks like a marker but is not one; a marker is "
            "'### BEGIN SOLUTION', '### END SOLUTION', '### BEGIN HIDDEN TESTS' or "
            "'### END HIDDEN TESTS', alone on its line"
        )
    return None, False


def remove_solutions(cell: dict) -> dict:
    replacement = STUB if cell["cell_type"] == "code" else ANSWER
    cell["source"] = strip_solution(cell["source"], replacement)
    return cell


def clear_outputs(cell: dict) -> dict:
    if cell["cell_type"] == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    return cell


TRANSFORMS = [remove_solutions, clear_outputs]


def student_notebook(source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The release version of an annotated notebook (the input is left untouched). A
    marker error names the cell (counted from 1) and its line."""
    notebook = copy.deepcopy(source)
    for transform in TRANSFORMS:
        notebook.cells = [_in_cell(transform, cell, index) for index, cell in enumerate(notebook.cells, 1)]
    return notebook


def _in_cell(transform, cell: dict, index: int) -> dict:
    try:
        return transform(cell)
    except MarkerError as exc:
        raise MarkerError(f"cell {index} ({cell['cell_type']}), {exc}") from None


def assign(source_path: str | Path, out_dir: str | Path) -> Path:
    """Write the student version of ``source_path`` into ``out_dir``; return its path."""
    source = nbformat.read(str(source_path), as_version=4)
    try:
        student = student_notebook(source)
    except MarkerError as exc:
        raise MarkerError(f"{source_path}: {exc}") from None
    target = Path(out_dir) / Path(source_path).name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(student, str(target))
    return target
