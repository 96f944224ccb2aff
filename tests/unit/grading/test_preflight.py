"""Preflight: no batch without a passing reference; `dlgrade doctor`."""

import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_worker import BrokenSeeding, one_test_course, submission, use_fake_workers, with_reference
from support import COURSE

from grader.cli import main
from grader.course.layout import Course
from grader.errors import PreflightFailed
from grader.grading import preflight
from grader.grading.distributed import course_files
from grader.grading.grade import grade
from grader.results.gradebook import Gradebook
from grader.results.records import SubmissionResult, TestResult
from grader.sandbox.limits import Limits


def test_a_reference_that_loses_points_stops_the_batch_before_any_student(tmp_path, monkeypatch):
    use_fake_workers(monkeypatch)
    course = one_test_course(tmp_path / "course")
    with_reference(course, 41)  # the source notebook is wrong, or this machine is
    seen, alice = [], str(submission(tmp_path / "alice.py", 42))
    with pytest.raises(PreflightFailed) as caught:
        grade([alice], assignment="t9", course=course, on_result=seen.append)
    assert seen == []
    message = str(caught.value)
    assert "source/t9/t9.ipynb gets 0/2" in message and "no student was graded" in message
    assert "Cause: the reference itself loses points" in message and "Fix: " in message


def test_a_passing_reference_is_graded_first_and_never_reported(tmp_path, monkeypatch):
    use_fake_workers(monkeypatch)
    course = one_test_course(tmp_path / "course")
    with_reference(course, 42)
    results = grade([str(submission(tmp_path / "alice.py", 41))], assignment="t9", course=course)
    assert [(r.submission.endswith("alice.py"), r.score) for r in results] == [(True, 0)]


def test_the_batch_stops_with_one_line_and_no_attempt_in_the_gradebook(tmp_path, monkeypatch):
    use_fake_workers(monkeypatch, BrokenSeeding)
    course = one_test_course(tmp_path / "course")
    with_reference(course, 42)
    book, bob = tmp_path / "book.sqlite", submission(tmp_path / "s" / "bob.py", 42)
    run = CliRunner().invoke(
        main,
        [
            "grade",
            "-a",
            "t9",
            "--course",
            str(course.root),
            "--gradebook",
            str(book),
            "--workers",
            "1",
            str(bob),
        ],
    )
    assert run.exit_code == 1 and "Traceback" not in run.output
    (line,) = [line for line in run.output.splitlines() if line.startswith("Error:")]
    assert "no student was graded" in line and "No module named 'numpy.random'" in line
    with Gradebook(book) as gradebook:
        assert gradebook.attempts("t9") == []


def failing(message: str) -> SubmissionResult:
    test = TestResult("test_x", 1.0, "error", message)
    return SubmissionResult("source/a1/a1.ipynb", "a1", "error", tests=(test,), message=message)


def test_a_python_closed_to_other_users_is_named_with_the_folder_and_the_fix(monkeypatch):
    open_folder = Path(tempfile.mkdtemp(prefix="dlgrade-test-"))  # pytest's own tmp_path is 0700
    open_folder.chmod(0o755)
    closed = open_folder / "home"
    (closed / "python" / "lib").mkdir(parents=True)
    closed.chmod(0o700)  # as pyenv's or conda's home under /root is
    monkeypatch.setattr(preflight.os, "getuid", lambda: 0)
    monkeypatch.setattr(preflight, "readable_paths", lambda: [str(closed / "python")])
    cause, fix = preflight.diagnose(
        failing("seeding the worker raised ModuleNotFoundError: No module named 'numpy.random'"),
        device="cpu",
        limits=Limits(),
    )
    assert f"cannot read {closed / 'python'}" in cause and str(closed) in cause and "drwx------" in cause
    assert "uid of its own" in cause and f"chmod o+x {closed}" in fix
    assert stat.S_IMODE(closed.stat().st_mode) == 0o700
    shutil.rmtree(open_folder)


def test_an_address_space_limit_is_named_as_such():
    message = "seeding the worker raised ImportError: numpy/random/_generator.so: failed to map segment"
    cause, fix = preflight.diagnose(failing(message), device="cpu", limits=Limits(memory_mb=100))
    assert "--memory-mb 100" in cause and "raise --memory-mb" in fix


def test_a_dask_chunk_carries_the_reference_to_grade_first():
    files = course_files(Course(COURSE), "a1", "hidden")
    assert "source/a1/a1.ipynb" in files


def test_doctor_exits_2_with_the_cause_for_a_reference_that_fails_here(tmp_path, monkeypatch):
    use_fake_workers(monkeypatch, BrokenSeeding)
    course = one_test_course(tmp_path / "course")
    with_reference(course, 42)
    run = CliRunner().invoke(main, ["doctor", "--course", str(course.root)])
    assert run.exit_code == 2
    assert "t9: FAILED: the reference" in run.output and "Cause: " in run.output
