"""a1 as an nbgrader course: source notebook, ``generate_assignment``, submissions, ``autograde``.

The source notebook is dlgrade's own ``source/a1/a1.ipynb`` (it already uses
nbgrader's ``### BEGIN SOLUTION`` markers): each cell that defines a graded
function becomes an nbgrader solution cell, and every check of
``graded_checks.CHECKS`` becomes a locked autograder test cell with its points.
A submission is the released notebook with its solution cells filled in from
the student's notebook, as a student working in the released notebook would.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import nbformat
from class_of_20 import COURSE, answer_cells, defined_name
from graded_checks import CHECKS
from tools import Run, run_timed

CONFIG = """c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "dlgrade-bench"
c.ExecutePreprocessor.timeout = 60
"""


def _meta(grade_id: str, *, solution: bool, grade: bool, points: int = 0) -> dict:
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": grade, "schema_version": 3}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> nbformat.NotebookNode:
    """dlgrade's a1 source with nbgrader metadata, and one autograder test cell per check."""
    notebook = nbformat.read(str(COURSE / "source" / "a1" / "a1.ipynb"), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source:
            cell.metadata.update(_meta(f"answer_{defined_name(cell.source)}", solution=True, grade=False))
    for check in CHECKS:
        test = nbformat.v4.new_code_cell(check.code)
        test.metadata.update(_meta(check.name, solution=False, grade=True, points=check.points))
        notebook.cells.append(test)
    return notebook


def build_course(root: Path, bin_dir: Path) -> Run:
    """Write the course and release a1 (``nbgrader generate_assignment``, not timed)."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "source" / "a1").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(CONFIG)
    nbformat.write(source_notebook(), str(root / "source" / "a1" / "a1.ipynb"))
    run = run_timed([str(bin_dir / "nbgrader"), "generate_assignment", "a1", "--force"], root, bin_dir)
    run.require("nbgrader generate_assignment")
    return run


def submit(root: Path, notebooks: dict[str, Path]) -> None:
    """Put each student's answers into the released notebook under ``submitted/``."""
    release = nbformat.read(str(root / "release" / "a1" / "a1.ipynb"), as_version=4)
    for student, path in notebooks.items():
        answers = answer_cells(nbformat.read(str(path), as_version=4))
        notebook = nbformat.from_dict(release)  # a fresh copy
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            if grade_id.startswith("answer_"):
                cell.source = answers[grade_id.removeprefix("answer_")]
        folder = root / "submitted" / student / "a1"
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, str(folder / "a1.ipynb"))


def autograde(root: Path, bin_dir: Path) -> Run:
    """The timed part: one ``nbgrader autograde`` over every submission."""
    shutil.rmtree(root / "autograded", ignore_errors=True)
    return run_timed([str(bin_dir / "nbgrader"), "autograde", "a1", "--force"], root, bin_dir)


def scores(root: Path, bin_dir: Path) -> dict[str, tuple[float, float]]:
    """(score, max_score) per student, from ``nbgrader export`` (not timed)."""
    export = run_timed([str(bin_dir / "nbgrader"), "export", "--to", "grades.csv"], root, bin_dir)
    export.require("nbgrader export")
    with open(root / "grades.csv", newline="") as f:
        return {
            row["student_id"]: (float(row["raw_score"] or 0), float(row["max_score"]))
            for row in csv.DictReader(f)
        }
