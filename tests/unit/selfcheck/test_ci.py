"""`dlgrade ci`: what GitHub reads (annotations, job summary, points, JUnit XML, exit code)."""

import base64
import json
import shutil

from classroom_reporter import reporter_reads
from click.testing import CliRunner
from support import COURSE

from grader.results.records import SubmissionResult, TestResult
from grader.selfcheck.check import exit_code
from grader.selfcheck.check_descriptions import CheckInfo
from grader.selfcheck.ci import (
    ci_command,
    classroom_result,
    error_annotations,
    error_command,
    job_summary,
    points_lines,
)
from grader.selfcheck.junit import junit_tree

BOB = SubmissionResult(
    "bob.ipynb",
    "a1",
    "graded",
    suite="public",
    tests=(
        TestResult("test_weighted_sum_worked_example", 1, "passed"),
        TestResult(
            "test_sign_of_negative_zero_positive",
            2,
            "failed",
            "sign([-2.5, 0, 3]): expected 0, got 1 | at index [1]\n  expected: [-1, 0, 1]",
        ),
    ),
)
ERIN = SubmissionResult(
    "erin.ipynb",
    "a1",
    "invalid_notebook",
    message="the file is empty",
    suite="public",
    tests=(TestResult("test_weighted_sum_worked_example", 1, "skipped", "not run"),),
)
CHECKS = {"test_sign_of_negative_zero_positive": CheckInfo("test_sign_of_negative_zero_positive", ("sign",))}


# ---------------------------------------------------------------- the pieces, on results made by hand


def test_a_failing_check_is_one_error_annotation_with_its_newlines_encoded():
    assert error_annotations([BOB], CHECKS) == [
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


def test_where_the_reporter_runs_only_the_points_line_is_printed_it_writes_the_notices_itself():
    assert points_lines([BOB, ERIN], notices=False) == ["Points 1/4"]


# GitHub Classroom's reporter (classroom-resources/autograding-grading-reporter@v1, src/main.js and
# src/notify-classroom.js) reads, for each runner id R in its `runners` input, the environment variable
def test_the_classroom_result_is_what_the_reporter_reads_with_names_scores_and_messages():
    data = json.loads(base64.b64decode(classroom_result([BOB, ERIN], CHECKS)))
    assert (data["version"], data["status"], data["max_score"]) == (1, "error", 4)
    assert [(t["name"], t["status"], t["score"]) for t in data["tests"]] == [
        ("bob.ipynb: test_weighted_sum_worked_example", "pass", 1),
        ("bob.ipynb: test_sign_of_negative_zero_positive", "fail", 0),
        ("erin.ipynb: could not grade (invalid_notebook)", "error", 0),
        ("erin.ipynb: test_weighted_sum_worked_example", "fail", 0),
    ]
    assert data["tests"][1]["message"].startswith("sign([-2.5, 0, 3]): expected 0, got 1")
    assert all(isinstance(t["line_no"], int) for t in data["tests"])  # else it prints "line undefined"
    read = reporter_reads("dlgrade", {"DLGRADE_RESULTS": classroom_result([BOB, ERIN], CHECKS)})
    assert read["points"] == points_lines([BOB, ERIN])[0] and read["failed"]


def test_one_submission_s_result_names_tests_plainly_and_passes_when_all_pass():
    alice = SubmissionResult(
        "a1.ipynb", "a1", "graded", suite="public", tests=(TestResult("t", 2, "passed"),)
    )
    data = json.loads(base64.b64decode(classroom_result([alice], {})))
    assert data == {
        "version": 1,
        "status": "pass",
        "max_score": 2,
        "tests": [
            {
                "name": "t",
                "status": "pass",
                "score": 2,
                "message": "",
                "filename": "a1.ipynb",
                "line_no": 0,
                "test_code": "",
            }
        ],
    }


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


def test_ci_cannot_run_a_hidden_suite_where_there_is_none_exit_2(tmp_path, monkeypatch):
    shutil.copytree(COURSE / "assignments" / "a1", tmp_path / "assignments" / "a1")  # a bundle's layout
    monkeypatch.chdir(tmp_path)
    summary = tmp_path / "summary.md"
    options = ["--assignment", "a1", "--suite", "hidden", "--course", ".", "--summary", str(summary)]
    run = CliRunner().invoke(ci_command, [*options, "assignments/a1/a1.ipynb"])
    assert run.exit_code == 2
    assert "::error title=dlgrade could not grade::no hidden suite for assignment 'a1'" in run.output
    assert "could not grade" in summary.read_text()


def test_ci_that_cannot_grade_tells_the_reporter_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "github_output"
    run = CliRunner().invoke(
        ci_command, ["--assignment", "a9", "--course", ".", "--github-output", str(output), "a9.ipynb"]
    )
    assert run.exit_code == 2
    data = json.loads(base64.b64decode(output.read_text().removeprefix("result=")))
    assert data["status"] == "error" and data["tests"][0]["status"] == "error"
    assert "no public suite for assignment 'a9'" in data["tests"][0]["message"]
