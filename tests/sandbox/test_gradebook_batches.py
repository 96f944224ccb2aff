"""The gradebook keeps every attempt, skips what it has, and survives kill -9.

Split from ``tests/unit/results/test_gradebook.py``: these tests start real workers; the ones that
do not are in ``tests/unit/results/test_gradebook.py``.
"""

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

from grader.cli import main
from grader.results.gradebook import Gradebook

SAMPLES = ROOT / "examples" / "submissions" / "a1"


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
    command = [
        sys.executable,
        "-m",
        "grader.cli",
        "grade",
        "--assignment",
        "a1",
        "--gradebook",
        str(book),
        str(folder),
    ]
    batch = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
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


# ---------------------------------------------------------------- right by construction


@pytest.mark.sandbox
def test_two_grade_commands_on_one_gradebook_never_grade_a_student_twice(tmp_path):
    folder = class_folder(tmp_path, ["s1", "s2", "s3", "s4"])
    book = tmp_path / "book.sqlite"
    command = [
        sys.executable,
        "-m",
        "grader.cli",
        "grade",
        "--assignment",
        "a1",
        "--gradebook",
        str(book),
        "--workers",
        "1",
    ]
    first, second = (
        subprocess.Popen(
            [*command, *(str(folder / s / "a1.ipynb") for s in students)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for students in (["s1", "s2", "s3"], ["s3", "s2", "s4"])
    )
    outputs = [process.communicate(timeout=300) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    with Gradebook(book) as gradebook:
        attempts = gradebook.attempts("a1")
    assert sorted(a.student for a in attempts) == ["s1", "s2", "s3", "s4"]  # each graded once
    assert all(a.result.score == 23 for a in attempts)
