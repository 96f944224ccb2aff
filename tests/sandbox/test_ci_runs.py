"""`dlgrade ci`: what GitHub reads (annotations, job summary, points, JUnit XML, exit code).

Split from ``tests/unit/selfcheck/test_ci.py``: these tests start real workers; the ones that do not
are in ``tests/unit/selfcheck/test_ci.py``.
"""

import base64
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from support import ROOT

from grader.selfcheck.ci import (
    ci_command,
)

SAMPLES = ROOT / "examples" / "submissions" / "a1"


# ---------------------------------------------------------------- the pieces, on results made by hand


# GitHub Classroom's reporter (classroom-resources/autograding-grading-reporter@v1, src/main.js and
# src/notify-classroom.js) reads, for each runner id R in its `runners` input, the environment variable
# R.upper() + "_RESULTS": base64 of JSON. It sums every test's `score` and each runner's `max_score`
# (a runner without max_score is left out), writes "Points X/Y" and {"totalPoints", "maxPoints"} as
# notices, and fails the job when a runner's status is "fail" or "error". Tests print as passed when
# their status is "pass", with " - line N" where line_no is not 0.
def reporter_reads(runners: str, environment: dict) -> dict:
    """What the reporter computes from the step outputs, as its code does."""
    results = [
        json.loads(base64.b64decode(environment[f"{runner.strip().upper()}_RESULTS"]).decode("utf-8"))
        for runner in runners.split(",")
    ]
    counted = [r for r in results if r.get("max_score")]
    total = sum(test["score"] for r in counted for test in r["tests"])
    possible = sum(r["max_score"] for r in counted)
    return {
        "points": f"Points {total:g}/{possible:g}",
        "failed": any(r["status"] in ("fail", "error") for r in results),
        "tests": [t for r in results for t in r["tests"]],
    }


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
