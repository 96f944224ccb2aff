"""An in-process stand-in for a worker, and a one-test course to grade with it.

Tests of what happens around grading (the gradebook, statuses, exit codes) need a
worker that answers fast and can be told to fail in one of dlgrade's own steps.
``FakeWorker`` answers the requests ``session.py`` sends; ``use_fake_workers``
makes ``grade()`` start it instead of a sandboxed process.

The submission is a ``.py`` file whose text is the value ``answer()`` returns.
"""

from pathlib import Path

from grader.course.layout import Course
from grader.sandbox.process import CappedOutput

SUITE = """
import pytest

@pytest.mark.points(2)
def test_answer(student):
    assert student.answer() == 42, "answer() must return 42"
"""


class FakeWorker:
    """Answers load, seed and call; ``seed_error``: what the seed step raises, if anything."""

    seed_error: dict | None = None
    printed = b""  # what the submission's code prints while it loads
    alive = True

    def __init__(self, limits, hide=()):
        self.output = CappedOutput(limits.max_output_bytes, bytearray())
        self.output.add(self.printed)
        self._value = None

    def request(self, message: dict, timeout: float) -> dict:
        if message["op"] == "load":
            self._value = int("".join(message["cells"]).split("#")[0].strip() or 0)
            return {"ok": {"defined": ["answer"], "notes": []}}
        if message["op"] == "seed" and self.seed_error is not None:
            return {"error": {"kind": "exception", **self.seed_error, "traceback": ""}}
        if message["op"] == "call":
            return {"ok": self._value}
        return {"ok": None}

    def kill(self) -> None:
        self.alive = False


class BrokenSeeding(FakeWorker):
    """The failure of issue 14: a worker that cannot import what seeding needs."""

    seed_error = {"type": "ModuleNotFoundError", "message": "No module named 'numpy.random'"}


def use_fake_workers(monkeypatch, worker: type = FakeWorker) -> None:
    """Make ``grade()`` start ``worker`` for every submission instead of a sandboxed process."""
    monkeypatch.setattr("grader.grading.grade.forkserver.available", lambda: False)
    monkeypatch.setattr("grader.sandbox.session.WorkerProcess", worker)


def one_test_course(root: Path, assignment: str = "t9") -> Course:
    """A course with one hidden test and the same test as a public check."""
    for folder in (
        root / "suites" / assignment,
        root / "reference" / assignment,
        root / "assignments" / assignment / "checks",
    ):
        folder.mkdir(parents=True, exist_ok=True)
    (root / "suites" / assignment / f"test_{assignment}.py").write_text(SUITE)
    (root / "assignments" / assignment / "checks" / f"test_{assignment}_public.py").write_text(SUITE)
    return Course(root)


def with_reference(course: Course, answer: int, assignment: str = "t9") -> Path:
    """Give ``course`` a source notebook (the reference graded before students) answering ``answer``."""
    import nbformat

    path = course.root / "source" / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"{answer}  # ### BEGIN SOLUTION")])
    nbformat.write(notebook, path)
    return path


def submission(path: Path, answer: int, *, mtime: float | None = None) -> Path:
    """A submission whose ``answer()`` returns ``answer``, handed in at ``mtime``."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{answer}\n")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path
