"""`dlgrade ci`: what GitHub reads (annotations, job summary, points, JUnit XML, exit code)."""

import shutil
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from support import ROOT

from grader.ci import annotations, ci_command, error_command, job_summary, points_lines
from grader.junit import junit_tree
from grader.public_checks import CheckInfo
from grader.results import SubmissionResult, TestResult
from grader.selfcheck import exit_code

SAMPLES = ROOT / "examples" / "submissions" / "a1"

BOB = SubmissionResult("bob.ipynb", "a1", "graded", suite="public", tests=(
    TestResult("test_weighted_sum_worked_example", 1, "passed"),
    TestResult("test_sign_of_negative_zero_positive", 2, "failed",
               "sign([-2.5, 0, 3]): expected 0, got 1 | at index [1]\n  expected: [-1, 0, 1]"),
))  # fmt: skip
ERIN = SubmissionResult("erin.ipynb", "a1", "invalid_notebook", message="the file is empty", suite="public",
                        tests=(TestResult("test_weighted_sum_worked_example", 1, "skipped", "not run"),))
CHECKS = {"test_sign_of_negative_zero_positive": CheckInfo("test_sign_of_negative_zero_positive", ("sign",))}


# ---------------------------------------------------------------- the pieces, on results made by hand


def test_a_failing_check_is_one_error_annotation_with_its_newlines_encoded():
    assert annotations([BOB], CHECKS) == [
        "::error file=bob.ipynb,title=sign%3A test_sign_of_negative_zero_positive::"
        "sign([-2.5, 0, 3]): expected 0, got 1 | at index [1]%0A  expected: [-1, 0, 1]"
        "%0Ahint: work the example in the message by hand and compare each step with sign."
    ]


def test_an_annotation_escapes_what_would_end_its_properties_or_message():
    assert error_command("a, b: c", "100% done\r\nnext", "a1.ipynb", 12) == (
        "::error file=a1.ipynb,line=12,title=a%2C b%3A c::100%25 done%0D%0Anext"
    )


def test_points_are_summed_in_the_form_github_classroom_reads():
    assert points_lines([BOB, ERIN]) == [
        "Points 1/4",
        "::notice title=Autograding complete::Points 1/4",
        '::notice title=Autograding report::{"totalPoints": 1, "maxPoints": 4}',
    ]


def test_the_exit_code_says_passed_failed_or_could_not_grade():
    passed = SubmissionResult("a.ipynb", "a1", "graded", tests=(TestResult("t", 1, "passed"),))
    assert exit_code([passed]) == 0
    assert exit_code([passed, BOB]) == 1
    assert exit_code([passed, BOB, ERIN]) == 2


def test_the_job_summary_is_a_markdown_table_with_each_failure_folded_away():
    summary = job_summary([BOB, ERIN], CHECKS)
    assert summary.startswith("## dlgrade: a1, public checks\n\n| submission | points | status |\n")
    assert "| bob.ipynb | 1/3 | graded |\n| erin.ipynb | 0/1 | invalid_notebook |" in summary
    assert "| test_sign_of_negative_zero_positive | sign | FAIL (failed) | 0/2 |" in summary
    assert "<details><summary>test_sign_of_negative_zero_positive</summary>" in summary
    assert "```text\nsign([-2.5, 0, 3]): expected 0, got 1 | at index [1]\n" in summary  # literal in code
    assert "Could not grade (invalid_notebook): the file is empty" in summary
    assert "hidden tests" in summary


def test_junit_has_a_suite_per_submission_and_an_error_where_nothing_could_be_graded():
    root = junit_tree([BOB, ERIN]).getroot()
    counts = {key: root.get(key) for key in ("tests", "failures", "errors")}
    assert counts == {"tests": "4", "failures": "1", "errors": "1"}
    bob, erin = root.findall("testsuite")
    failure = bob.find("testcase[@name='test_sign_of_negative_zero_positive']/failure")
    assert failure.get("type") == "failed" and "expected: [-1, 0, 1]" in failure.text
    assert erin.find("testcase[@name='load']/error").get("type") == "invalid_notebook"
    assert erin.find("properties/property[@name='points']").get("value") == "0"


# ---------------------------------------------------------------- the command (sandboxed workers)


@pytest.mark.sandbox
def test_ci_writes_junit_summary_annotations_and_points_and_exits_2_when_one_cannot_be_graded(tmp_path):
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    paths = [str(SAMPLES / "bob.ipynb"), str(SAMPLES / "erin.ipynb")]
    run = CliRunner().invoke(ci_command, ["--assignment", "a1", "--junit", str(junit), *paths],
                             env={"GITHUB_STEP_SUMMARY": str(summary)})  # fmt: skip
    assert run.exit_code == 2, run.output
    sign = next(line for line in run.output.splitlines() if "test_sign_of_negative_zero_positive::" in line)
    assert sign.startswith("::error file=") and ",line=" in sign and "title=sign%3A" in sign
    assert "::error file=" in run.output and "title=could not grade%3A invalid_notebook::" in run.output
    assert "\nPoints 5/12\n" in run.output
    assert ET.parse(junit).getroot().get("failures") == "1"
    assert "| test_sign_of_negative_zero_positive | sign | FAIL (failed) | 0/1 |" in summary.read_text()


@pytest.mark.sandbox
def test_ci_exits_0_when_every_public_check_passes(tmp_path):
    run = CliRunner().invoke(ci_command, ["--assignment", "a1", str(SAMPLES / "alice.ipynb")])
    assert run.exit_code == 0, run.output
    assert "Points 6/6" in run.output and "::error" not in run.output


def test_ci_cannot_run_a_hidden_suite_where_there_is_none_exit_2(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "assignments" / "a1", tmp_path / "assignments" / "a1")  # a student bundle's layout
    monkeypatch.chdir(tmp_path)
    summary = tmp_path / "summary.md"
    options = ["--assignment", "a1", "--suite", "hidden", "--course", ".", "--summary", str(summary)]
    run = CliRunner().invoke(ci_command, [*options, "assignments/a1/a1.ipynb"])
    assert run.exit_code == 2
    assert "::error title=dlgrade could not grade::no hidden suite for assignment 'a1'" in run.output
    assert "could not grade" in summary.read_text()
