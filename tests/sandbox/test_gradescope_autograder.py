"""The Gradescope autograder zip, unpacked as Gradescope unpacks it, grades a submission in a
real worker, outside the student's process.

Split from ``tests/unit/reports/test_reports.py``, whose tests start no worker.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from report_course import (
    make_course,
)

from reports.cli import gradescope as gradescope_command

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "course"  # this repository\'s course


@pytest.fixture
def course(tmp_path) -> Path:
    return make_course(tmp_path)


# ---------------------------------------------------------------- Gradescope autograder

GRADESCOPE_SCHEMA = Path(__file__).parents[1] / "schemas" / "gradescope-results.schema.json"


@pytest.mark.sandbox
def test_the_gradescope_autograder_zip_grades_a_submission_outside_the_students_process(tmp_path):
    """The zip as Gradescope unpacks it; run_autograder's command run with this Python and the
    bundled dlgrade source (setup.sh's venv is Gradescope's to build)."""
    zip_path = tmp_path / "autograder.zip"
    run = CliRunner().invoke(
        gradescope_command, ["--assignment", "a1", "--course", str(COURSE), "--out", str(zip_path)]
    )
    assert run.exit_code == 0, run.output
    source = tmp_path / "autograder" / "source"
    with zipfile.ZipFile(zip_path) as bundle:
        names = bundle.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in bundle.infolist()}
        bundle.extractall(source)
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert "course/suites/a1/test_a1.py" in names and not any(n.startswith("course/suites/a2") for n in names)
    assert "/autograder/results/results.json" in (source / "run_autograder").read_text()
    submission = tmp_path / "autograder" / "submission"
    submission.mkdir()
    shutil.copy(ROOT / "examples" / "submissions" / "a1" / "alice.ipynb", submission / "a1.ipynb")
    results = tmp_path / "autograder" / "results" / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reports.gradescope_autograder",
            "--assignment",
            "a1",
            "--course",
            str(source / "course"),
            str(submission),
            str(results),
        ],
        env={**os.environ, "PYTHONPATH": str(source / "dlgrade")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(results.read_text())
    jsonschema.validate(document, json.loads(GRADESCOPE_SCHEMA.read_text()))
    assert document["score"] == sum(t["max_score"] for t in document["tests"]) > 0
    assert {t["visibility"] for t in document["tests"]} == {"visible"}  # a1: "messages"
