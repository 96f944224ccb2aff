"""Make the bundled sample submissions for a1 from the source notebook.

    python examples/make_samples.py

Each sample is what a real class hands in: a correct notebook, one with a bug,
the untouched template, one that hangs, and a file that is not a notebook.
"""

from pathlib import Path

import nbformat

from grader.handout.assign import student_notebook

HERE = Path(__file__).parent / "submissions" / "a1"
ROOT = Path(__file__).resolve().parents[1]


def solution() -> nbformat.NotebookNode:
    notebook = nbformat.read(str(ROOT / "source/a1/a1.ipynb"), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = "\n".join(line for line in cell.source.splitlines() if "### " not in line)
    return notebook


def with_change(notebook: nbformat.NotebookNode, old: str, new: str) -> nbformat.NotebookNode:
    for cell in notebook.cells:
        if old in cell.source:
            cell.source = cell.source.replace(old, new)
            return notebook
    raise ValueError(f"{old!r} not found")


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    nbformat.write(solution(), str(HERE / "alice.ipynb"))
    nbformat.write(with_change(solution(), "(z > 0)", "(z >= 0)"), str(HERE / "bob.ipynb"))
    template = nbformat.read(str(ROOT / "source/a1/a1.ipynb"), as_version=4)
    nbformat.write(student_notebook(template), str(HERE / "carol.ipynb"))
    looping = with_change(solution(), "for _ in range(epochs):", "while True:")
    nbformat.write(
        with_change(looping, "if not updated:\n            break", "pass"), str(HERE / "dave.ipynb")
    )
    (HERE / "erin.ipynb").write_text('{"cells": [ this is not JSON')


if __name__ == "__main__":
    main()
