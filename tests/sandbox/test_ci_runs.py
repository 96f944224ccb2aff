"""`dlgrade ci`: what GitHub reads (annotations, job summary, points, JUnit XML, exit code).

Split from ``tests/unit/selfcheck/test_ci.py``: these tests start real workers; the ones that do not
are in ``tests/unit/selfcheck/test_ci.py``.
"""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from classroom_reporter import reporter_reads
from click.testing import CliRunner
from support import ROOT

from grader.selfcheck.ci import (
    ci_command,
)

SAMPLES = ROOT / "examples" / "submissions" / "a1"


# ---------------------------------------------------------------- the pieces, on results made by hand


# GitHub Classroom's reporter (classroom-resources/autograding-grading-reporter@v1, src/main.js and
# src/notify-classroom.js) reads, for each runner id R in its `runners` input, the environment variable
# ---------------------------------------------------------------- the command (sandboxed workers)


@pytest.mark.sandbox
def test_ci_writes_junit_summary_annotations_and_points_and_exits_2_when_one_cannot_be_graded(tmp_path):
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    paths = [str(SAMPLES / "bob.ipynb"), str(SAMPLES / "erin.ipynb")]
    run = CliRunner().invoke(
        ci_command,
        ["--assignment", "a1", "--junit", str(junit), *paths],
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert run.exit_code == 2, run.output
    sign = next(line for line in run.output.splitlines() if "test_sign_of_negative_zero_positive::" in line)
    assert sign.startswith("::error file=") and ",line=" in sign and "title=sign%3A" in sign
    assert "::error file=" in run.output and "title=could not grade%3A invalid_notebook::" in run.output
    assert "\nPoints 5/12\n" in run.output
    assert ET.parse(junit).getroot().get("failures") == "1"
    assert "| test_sign_of_negative_zero_positive | sign | FAIL (failed) | 0/1 |" in summary.read_text()


@pytest.mark.sandbox
def test_ci_writes_the_classroom_result_and_valid_junit_that_agree_with_the_points_line(tmp_path):
    xmlschema = pytest.importorskip("xmlschema")
    junit, output = tmp_path / "junit.xml", tmp_path / "github_output"
    output.write_text("earlier=1\n")  # other steps' outputs stay
    paths = [str(SAMPLES / "alice.ipynb"), str(SAMPLES / "bob.ipynb")]
    run = CliRunner().invoke(
        ci_command,
        ["--assignment", "a1", "--junit", str(junit), *paths],
        env={"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": None},
    )
    assert run.exit_code == 1, run.output
    lines = output.read_text().splitlines()
    assert lines[0] == "earlier=1" and lines[1].startswith("result=") and len(lines) == 2
    read = reporter_reads("dlgrade", {"DLGRADE_RESULTS": lines[1].removeprefix("result=")})
    assert f"\n{read['points']}\n" in run.output and read["points"] == "Points 11/12"
    assert read["failed"]
    sign = next(t for t in read["tests"] if t["name"] == f"{paths[1]}: test_sign_of_negative_zero_positive")
    assert sign["status"] == "fail" and sign["line_no"] > 0 and "expected" in sign["message"]
    assert "Autograding complete" not in run.output  # the reporter writes its notices itself
    xmlschema.XMLSchema(str(ROOT / "tests" / "schemas" / "junit-10.xsd")).validate(str(junit))
    if os.environ.get("DLGRADE_CLASSROOM_REPORTER") and shutil.which("node"):
        _the_real_reporter_agrees(lines[1].removeprefix("result="), read["points"])


def _the_real_reporter_agrees(result: str, points: str) -> None:
    """With DLGRADE_CLASSROOM_REPORTER set to the reporter's dist/main.js (v1; not in this
    repository), run it as the Actions runner would and read the notice it writes."""
    env = {"PATH": os.environ["PATH"], "INPUT_RUNNERS": "dlgrade", "DLGRADE_RESULTS": result}
    run = subprocess.run(
        ["node", os.environ["DLGRADE_CLASSROOM_REPORTER"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"::notice title=Autograding complete::{points}" in run.stdout, run.stdout + run.stderr


@pytest.mark.sandbox
def test_ci_exits_0_when_every_public_check_passes(tmp_path):
    run = CliRunner().invoke(ci_command, ["--assignment", "a1", str(SAMPLES / "alice.ipynb")])
    assert run.exit_code == 0, run.output
    assert "Points 6/6" in run.output and "::error" not in run.output
