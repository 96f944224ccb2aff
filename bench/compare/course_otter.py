"""a1 as an otter-grader assignment: test files, ``otter generate``, one ``otter run`` per notebook.

Each graded function is one otter question (``tests/<function>.py``) in otter's
exception-based format: one ``@test_case`` per check of ``graded_checks.CHECKS``,
whose parameters otter fills from the executed notebook's globals. ``otter
generate`` packs the tests into ``autograder.zip``. ``otter run`` grades one
notebook per call without containers (``otter grade`` needs Docker), so grading
the class is twenty calls, timed together.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import defaultdict
from pathlib import Path
from textwrap import indent

from graded_checks import CHECKS, Check
from tools import Run, run_timed

HEADER = "from otter.test_files import test_case\n\nOK_FORMAT = False\n\nname = {name!r}\n"


def test_case(check: Check) -> str:
    """One check as an otter test case; its parameters are the notebook globals it uses."""
    return (
        f"\n\n@test_case(name={check.name!r}, points={check.points})\n"
        f"def test_{check.name}({', '.join(check.uses)}):\n{indent(check.code, '    ')}"
    )


def write_tests(folder: Path) -> list[Path]:
    """``folder/tests/<question>.py`` for every graded function; the paths written."""
    by_question: dict[str, list[Check]] = defaultdict(list)
    for check in CHECKS:
        by_question[check.question].append(check)
    (folder / "tests").mkdir(parents=True)
    paths = []
    for question, checks in by_question.items():
        path = folder / "tests" / f"{question}.py"
        path.write_text(HEADER.format(name=question) + "".join(test_case(c) for c in checks))
        paths.append(path)
    return paths


def build_autograder(folder: Path, bin_dir: Path) -> Path:
    """Write the tests and ``otter generate`` the autograder zip (not timed)."""
    shutil.rmtree(folder, ignore_errors=True)
    write_tests(folder)
    command = [
        str(bin_dir / "otter"),
        "generate",
        "--no-requirements",
        "--no-environment",
        "--no-config",
        "-t",
        "tests",
        "-o",
        "autograder.zip",
    ]
    run_timed(command, folder, bin_dir).require("otter generate")
    return folder / "autograder.zip"


def run_class(autograder: Path, notebooks: dict[str, Path], out: Path, bin_dir: Path) -> Run:
    """The timed part: ``otter run`` on each notebook in turn, as one batch."""
    runs, started = [], time.perf_counter()
    for student, path in notebooks.items():
        (out / student).mkdir(parents=True, exist_ok=True)
        command = [
            str(bin_dir / "otter"),
            "run",
            "--no-logo",
            "-a",
            str(autograder),
            "-o",
            str(out / student),
            str(path),
        ]
        runs.append(run_timed(command, out, bin_dir))
    failed = [r for r in runs if r.returncode != 0]
    return Run(
        command=[*runs[0].command[:-1], f"NOTEBOOK  (x{len(runs)}, one call per notebook)"],
        seconds=time.perf_counter() - started,
        returncode=failed[0].returncode if failed else 0,
        output="\n".join(r.output for r in (failed or runs[-1:])),
    )


def scores(out: Path, students: list[str]) -> dict[str, tuple[float, float]]:
    """(score, max_score) per student, summed over the test cases in each ``results.json``."""
    found = {}
    for student in students:
        results = json.loads((out / student / "results.json").read_text())
        tests = [t for t in results["tests"] if t.get("max_score") is not None]  # not "Public Tests"
        found[student] = (float(sum(t["score"] for t in tests)), float(sum(t["max_score"] for t in tests)))
    return found
