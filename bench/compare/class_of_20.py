"""Twenty a1 submissions, each with distinct content: fourteen correct, six with a bug.

Every submission starts from the a1 source notebook with its solution markers
removed (the reference solution, as ``examples/make_samples.py`` makes it) and
carries a comment with its own id, so no two files hash alike. Four correct ones
are written another way (``torch.sign``, ``torch.sigmoid``, ...); the buggy ones
carry one mistake a student makes, and one is the untouched template. ``expect``
says what a sane grader must give: full marks, or less.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.handout.assign import student_notebook

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "course"  # this repository\'s course
SOURCE = COURSE / "source" / "a1" / "a1.ipynb"

SIGMOID = (
    "e = torch.exp(-z.abs())  # in (0, 1]: never overflows\n"
    "    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))"
)


@dataclass(frozen=True)
class Variant:
    student: str
    what: str
    expect: str  # "full" or "less"
    changes: tuple[tuple[str, str], ...] = ()
    template: bool = False


VARIANTS = (
    *(Variant(f"s{i:02d}", "the reference solution", "full") for i in range(1, 11)),
    Variant(
        "s11",
        "weighted_sum as (x * w).sum(-1) + b",
        "full",
        (("return x @ w + b", "return (x * w).sum(dim=-1) + b"),),
    ),
    Variant(
        "s12",
        "sign as torch.sign",
        "full",
        (("return (z > 0).to(z.dtype) - (z < 0).to(z.dtype)", "return torch.sign(z)"),),
    ),
    Variant("s13", "sigmoid as torch.sigmoid", "full", ((SIGMOID, "return torch.sigmoid(z)"),)),
    Variant(
        "s14",
        "perceptron_predict as torch.sign(x @ w + b)",
        "full",
        (("return sign(weighted_sum(x, w, b))", "return torch.sign(x @ w + b)"),),
    ),
    Variant("s15", "bug: sign(0) is 1", "less", (("(z > 0)", "(z >= 0)"),)),
    Variant(
        "s16",
        "bug: sigmoid as exp(z) / (1 + exp(z)) overflows",
        "less",
        ((SIGMOID, "return torch.exp(z) / (1 + torch.exp(z))"),),
    ),
    Variant(
        "s17",
        "bug: updates only where y * z < 0, so never from the zero start",
        "less",
        (("if y_i * weighted_sum(x_i, w, b) <= 0:", "if y_i * weighted_sum(x_i, w, b) < 0:"),),
    ),
    Variant(
        "s18", "bug: the weight update ignores lr", "less", (("w = w + lr * y_i * x_i", "w = w + y_i * x_i"),)
    ),
    Variant(
        "s19",
        "bug: perceptron_predict never returns 0, and in float32",
        "less",
        (
            (
                "return sign(weighted_sum(x, w, b))",
                "return torch.where(weighted_sum(x, w, b) >= 0, 1.0, -1.0)",
            ),
        ),
    ),
    Variant("s20", "the untouched template", "less", template=True),
)


def solution() -> nbformat.NotebookNode:
    """The source notebook with the marker lines dropped: the reference solution."""
    notebook = nbformat.read(str(SOURCE), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = "\n".join(line for line in cell.source.splitlines() if "### " not in line)
    return notebook


def notebook_of(variant: Variant) -> nbformat.NotebookNode:
    """The variant's notebook, with its id in a comment on the first graded cell."""
    if variant.template:
        notebook = student_notebook(nbformat.read(str(SOURCE), as_version=4))
    else:
        notebook = solution()
    for old, new in variant.changes:
        _replace_once(notebook, old, new)
    first = next(c for c in notebook.cells if "def weighted_sum(" in c.source)
    first.source = f"# submission {variant.student}\n{first.source}"
    return notebook


def _replace_once(notebook: nbformat.NotebookNode, old: str, new: str) -> None:
    cells = [c for c in notebook.cells if old in c.source]
    if len(cells) != 1 or cells[0].source.count(old) != 1:
        raise ValueError(f"{old!r} must occur exactly once in the notebook")
    cells[0].source = cells[0].source.replace(old, new)


def answer_cells(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """The source of each code cell that defines a graded function, keyed by the first name."""
    answers = {}
    for cell in notebook.cells:
        name = defined_name(cell.source) if cell.cell_type == "code" else None
        if name:
            answers[name] = cell.source
    return answers


def defined_name(source: str) -> str | None:
    for line in source.splitlines():
        if line.startswith("def "):
            return line[4:].split("(")[0]
    return None


def write_class(folder: Path) -> dict[str, Path]:
    """Write every variant as ``folder/<student>.ipynb``; the paths by student."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for variant in VARIANTS:
        path = folder / f"{variant.student}.ipynb"
        nbformat.write(copy.deepcopy(notebook_of(variant)), str(path))
        paths[variant.student] = path
    return paths
