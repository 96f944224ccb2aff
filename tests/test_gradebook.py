"""The gradebook keeps every attempt, skips what it has, and survives kill -9."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from support import ROOT

from grader.batch import submitted_at
from grader.cli import main
from grader.gradebook import SCHEMA, Gradebook, suite_version
from grader.results import SubmissionResult, TestResult

SAMPLES = ROOT / "examples" / "submissions" / "a1"


def result(path="alice.ipynb", outcome="passed", sha="abc"):
    tests = (TestResult("test_a", 2.0, outcome, ""), TestResult("test_b", 1.0, "failed", "wrong sign"))
    return SubmissionResult(submission=path, assignment="a1", status="graded", tests=tests, sha256=sha,
                            notes=("cell 3: skipped",), output="hi\n", seconds=1.5)  # fmt: skip


def test_an_attempt_reads_back_as_it_was_written(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        book.record(result(), student="alice", suite_version="v1", versions={"torch": "x"})
        (attempt,) = book.attempts("a1")
    assert attempt.student == "alice" and attempt.suite_version == "v1" and attempt.versions == {"torch": "x"}
    assert attempt.result == result()
    assert attempt.result.score == 2.0 and attempt.result.max_score == 3.0


def test_the_latest_attempt_per_student_counts(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        book.record(result(outcome="failed"), student="alice", suite_version="v1")
        book.record(result(outcome="passed", sha="def"), student="alice", suite_version="v1")
        assert book.latest("a1")["alice"].result.score == 2.0
        assert "abc" in [a.result.sha256 for a in book.attempts("a1", suite_version="v1")]
        assert book.attempts("a1", suite_version="v2") == []


def test_the_hand_in_time_is_kept_and_an_old_gradebook_gains_the_column(tmp_path):
    path = tmp_path / "book.sqlite"
    with sqlite3.connect(path) as old:  # a gradebook from before submitted_at existed
        old.executescript(SCHEMA.replace(",\n    submitted_at  TEXT NOT NULL DEFAULT ''", ""))
    with Gradebook(path) as book:
        book.record(result(), student="alice", suite_version="v1", submitted_at="2026-11-01T22:59:00+00:00")
        book.record(result(sha="def"), student="bob", suite_version="v1")
        times = {a.student: a.submitted_at for a in book.attempts("a1")}
    assert times == {"alice": "2026-11-01T22:59:00+00:00", "bob": ""}


def test_a_submissions_hand_in_time_is_its_files_modification_time(tmp_path):
    notebook = tmp_path / "alice.ipynb"
    notebook.write_text("{}")
    os.utime(notebook, (1_793_573_940, 1_793_573_940))
    assert submitted_at(notebook) == "2026-11-01T22:59:00+00:00"
    assert submitted_at(tmp_path / "missing.ipynb") == ""


def test_the_suite_version_changes_with_the_content_of_a_file_only(tmp_path):
    (tmp_path / "test_x.py").write_text("def test_x(): pass\n")
    before = suite_version(tmp_path.glob("*.py"), tmp_path)
    os.utime(tmp_path / "test_x.py", (0, 0))
    assert suite_version(tmp_path.glob("*.py"), tmp_path) == before
    (tmp_path / "test_x.py").write_text("def test_x(): assert 1\n")
    assert suite_version(tmp_path.glob("*.py"), tmp_path) != before


def class_folder(tmp_path, students):
    """One folder per student, each holding a copy of a correct a1 notebook."""
    folder = tmp_path / "class"
    for student in students:
        (folder / student).mkdir(parents=True)
        shutil.copy(SAMPLES / "alice.ipynb", folder / student / "a1.ipynb")
    return folder


@pytest.mark.sandbox
def test_a_second_run_grades_only_what_changed(tmp_path):
    folder = class_folder(tmp_path, ["s1", "s2"])
    book = str(tmp_path / "book.sqlite")
    grade = ["grade", "--assignment", "a1", "--gradebook", book, str(folder)]
    first = CliRunner().invoke(main, grade)
    assert first.exit_code == 0, first.output
    shutil.copy(SAMPLES / "bob.ipynb", folder / "s2" / "a1.ipynb")  # s2 hands in again
    second = CliRunner().invoke(main, grade)
    assert "s1: " in second.output and "from the gradebook" in second.output.split("s1: ")[1].split("\n")[0]
    assert "from the gradebook" not in second.output.split("s2: ")[1].split("\n")[0]
    forced = CliRunner().invoke(main, [*grade, "--force"])
    assert "from the gradebook" not in forced.output
    with Gradebook(book) as gradebook:
        # three runs: both, then s2 alone, then both again (in the order they finished)
        assert sorted(a.student for a in gradebook.attempts("a1")) == ["s1", "s1", "s2", "s2", "s2"]


@pytest.mark.sandbox
def test_a_batch_killed_with_sigkill_loses_nothing_finished(tmp_path):
    students = [f"s{i}" for i in range(5)]
    folder = class_folder(tmp_path, students)
    book = tmp_path / "book.sqlite"
    command = [sys.executable, "-m", "grader.cli", "grade", "--assignment", "a1", "--gradebook", str(book),
               str(folder)]  # fmt: skip
    batch = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)  # fmt: skip
    try:
        while finished(book) < 2 and batch.poll() is None:
            time.sleep(0.05)
    finally:
        os.killpg(batch.pid, signal.SIGKILL)
        batch.wait()
    survived = finished(book)
    assert 2 <= survived < len(students), "the batch must die mid-way for this test to mean anything"

    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("from the gradebook") == survived
    with Gradebook(book) as gradebook:
        attempts = gradebook.attempts("a1")
    assert sorted(a.student for a in attempts) == students  # each exactly once: nothing lost, nothing twice
    assert all(a.result.score == a.result.max_score == 23 for a in attempts)


def finished(path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT count(*) FROM attempts").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not there yet
        return 0
