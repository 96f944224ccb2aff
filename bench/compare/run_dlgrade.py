"""dlgrade on the class: the ``dlgrade grade`` command, and the same batch with cold workers.

The command is started as ``python -m grader.cli`` with this checkout first on
``PYTHONPATH``, which is what the ``dlgrade`` script runs, so the timing holds the
interpreter's start, ``import torch`` on the trusted side, the fork server's start,
the twenty submissions and the gradebook's writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from class_of_20 import COURSE, ROOT
from tools import Run, run_timed

COLD_SCRIPT = Path(__file__).with_name("dlgrade_cold.py")


def _env() -> dict[str, str]:
    return {"PYTHONPATH": str(ROOT)}


def has_workers_option() -> bool:
    """Whether this checkout's ``dlgrade grade`` takes ``--workers`` (grading processes)."""
    run = run_timed([sys.executable, "-m", "grader.cli", "grade", "--help"], ROOT, None, _env())
    return "--workers" in run.output


def grade_cli(notebooks: dict[str, Path], work: Path, options: tuple[str, ...] = ()) -> Run:
    """The timed part: ``dlgrade grade --assignment a1 --force [options]`` over every notebook."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "gradebook.sqlite").unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "grader.cli",
        "grade",
        "--assignment",
        "a1",
        "--force",
        *options,
        "--course",
        str(COURSE),
        "--gradebook",
        str(work / "gradebook.sqlite"),
        "--json",
        str(work / "results.json"),
        *map(str, notebooks.values()),
    ]
    return run_timed(command, work, None, _env())


def scores(work: Path) -> dict[str, tuple[float, float]]:
    """(score, max_score) per student, from the results file (``--json``)."""
    results = json.loads((work / "results.json").read_text())["results"]
    return {Path(r["submission"]).stem: (float(r["score"]), float(r["max_score"])) for r in results}


def grade_cold(notebooks: dict[str, Path], work: Path) -> tuple[Run, dict[str, tuple[float, float]]]:
    """The same batch with a fresh interpreter per submission (what a machine without
    root and bubblewrap gets); the scores come back as the script's last line."""
    work.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(COLD_SCRIPT), str(COURSE), *map(str, notebooks.values())]
    run = run_timed(command, work, None, _env())
    run.require("dlgrade with cold workers")
    found = json.loads(run.output.strip().splitlines()[-1])
    return run, {student: (float(s), float(m)) for student, (s, m) in found.items()}
