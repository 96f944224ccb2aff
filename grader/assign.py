"""Make the student notebook from an annotated source notebook, as nbgrader does.

In a source notebook the solution sits between two marker lines:

    def relu(z):
        ### BEGIN SOLUTION
        return z.clamp(min=0)
        ### END SOLUTION

and the student sees ``raise NotImplementedError()`` at the same indentation.
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
STUB = "raise NotImplementedError()"


def strip_solution(source: str) -> str:
    """Replace every solution region with a stub at the region's indentation."""
    out: list[str] = []
    indent: str | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        begin = BEGIN.match(line)
        if begin:
            if indent is not None:
                raise DlgradeError(f"line {number}: BEGIN SOLUTION inside another solution region")
            indent = begin.group(1)
            out.append(indent + STUB)
        elif END.match(line):
            if indent is None:
                raise DlgradeError(f"line {number}: END SOLUTION without BEGIN SOLUTION")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise DlgradeError("a BEGIN SOLUTION region is never closed")
    return "\n".join(out)


def remove_solutions(cell: dict) -> dict:
    if cell["cell_type"] == "code":
        cell["source"] = strip_solution(cell["source"])
    return cell


def clear_outputs(cell: dict) -> dict:
    if cell["cell_type"] == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    return cell


TRANSFORMS = [remove_solutions, clear_outputs]


def student_notebook(source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The release version of an annotated notebook (the input is left untouched)."""
    notebook = copy.deepcopy(source)
    for transform in TRANSFORMS:
        notebook.cells = [transform(cell) for cell in notebook.cells]
    return notebook


def assign(source_path: str | Path, out_dir: str | Path) -> Path:
    """Write the student version of ``source_path`` into ``out_dir``; return its path."""
    source = nbformat.read(str(source_path), as_version=4)
    target = Path(out_dir) / Path(source_path).name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(student_notebook(source), str(target))
    return target
