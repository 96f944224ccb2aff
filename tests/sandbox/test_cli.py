"""The command line, driven through click's CliRunner."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import jsonschema
import pytest
from click.testing import CliRunner
from support import COURSE, ROOT

from grader.cli import main
from grader.course.layout import Course
from grader.grading.options import GradingOptions
from grader.results.records import SCHEMA_PATH

pytestmark = pytest.mark.sandbox
SAMPLES = ROOT / "examples" / "submissions" / "a1"


def test_grade_writes_a_valid_results_file(tmp_path):
    out = tmp_path / "results.json"
    paths = [str(SAMPLES / "alice.ipynb"), str(SAMPLES / "erin.ipynb")]
    book = tmp_path / "gradebook.sqlite"
    run = CliRunner().invoke(
        main, ["grade", "--assignment", "a1", "--json", str(out), "--gradebook", str(book), *paths]
    )
    assert run.exit_code == 0, run.output
    assert "alice: " in run.output and "alice.ipynb: 23/23 [graded]" in run.output
    data = json.loads(out.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    assert [(r["submission"], r["status"]) for r in data["results"]] == [
        (paths[0], "graded"),
        (paths[1], "invalid_notebook"),
    ]


def test_check_says_that_hidden_tests_decide_the_grade():
    run = CliRunner().invoke(main, ["check", str(SAMPLES / "bob.ipynb")])
    assert "FAIL  test_sign_of_negative_zero_positive" in run.output
    assert "expected" in run.output and "got" in run.output
    assert "hidden tests" in run.output and "all tests passed" not in run.output.lower()
    assert run.exit_code == 1


def test_check_finds_the_assignment_from_the_notebook():
    run = CliRunner().invoke(main, ["check", str(COURSE / "assignments" / "a1" / "a1.ipynb")])
    assert "0 of 6 public checks passed." in run.output


def test_an_unknown_assignment_is_a_usage_error(tmp_path):
    run = CliRunner().invoke(main, ["grade", "--assignment", "a9", str(SAMPLES / "alice.ipynb")])
    assert run.exit_code != 0 and "no hidden suite for assignment 'a9'" in run.output


def test_assign_writes_the_student_notebook(tmp_path):
    run = CliRunner().invoke(main, ["assign", str(COURSE / "source/a1/a1.ipynb"), str(tmp_path)])
    assert run.exit_code == 0
    assert "NotImplementedError" in (tmp_path / "a1.ipynb").read_text()


def options_given(tmp_path, monkeypatch, *arguments: str) -> GradingOptions:
    """The options `dlgrade grade -a a1 ARGUMENTS alice.ipynb` hands the batch (not run)."""
    seen = {}

    def grade_class(paths, options, **outputs):
        seen["options"] = options
        return []

    monkeypatch.setattr("grader.cli.grade_class", grade_class)
    run = CliRunner().invoke(
        main,
        [
            "grade",
            "-a",
            "a1",
            "--gradebook",
            str(tmp_path / "book.sqlite"),
            *arguments,
            str(SAMPLES / "alice.ipynb"),
        ],
    )
    assert run.exit_code == 0, run.output
    return seen["options"]


def test_the_command_line_defaults_are_the_options_defaults(tmp_path, monkeypatch):
    given = options_given(tmp_path, monkeypatch, "--workers", "1")
    default = GradingOptions.of(Course(COURSE), "a1")
    assert given.but(workers=default.workers, devices=()) == default  # nothing restated with another value


def test_limits_given_on_the_command_line_reach_the_grader(tmp_path, monkeypatch):
    options = options_given(
        tmp_path,
        monkeypatch,
        "--threads",
        "4",
        "--memory-mb",
        "2048",
        "--test-timeout",
        "3",
        "--workers",
        "1",
    )
    assert (options.limits.threads, options.limits.memory_mb, options.limits.test_seconds) == (4, 2048, 3.0)
    assert options.workers == 1


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_says_what_is_kept_and_how_to_go_on(tmp_path, workers):
    folder = tmp_path / "class"
    for student in ("s1", "s2", "s3", "s4", "s5", "s6"):
        (folder / student).mkdir(parents=True)
        shutil.copy(SAMPLES / "alice.ipynb", folder / student / "a1.ipynb")
    book = tmp_path / "book.sqlite"
    command = [
        sys.executable,
        "-m",
        "grader.cli",
        "grade",
        "-a",
        "a1",
        "--gradebook",
        str(book),
        "--workers",
        workers,
        str(folder),
    ]
    batch = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    while not _attempts(book) and batch.poll() is None:
        time.sleep(0.05)
    os.killpg(batch.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends: the whole foreground group
    out, err = batch.communicate(timeout=60)
    assert batch.returncode == 130, (out, err)
    assert f"every result finished so far is in the gradebook {book}" in err
    assert "Run the same command again" in err and "Traceback" not in err


def _attempts(path) -> int:
    try:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT count(*) FROM attempts").fetchone()[0]
    except sqlite3.Error:
        return 0
