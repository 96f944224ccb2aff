"""The worker's start-up off Linux, simulated on Linux: the rlimits a laptop gives it.

Each case runs in a fresh interpreter that imports the worker script as a module and
calls ``set_limits`` after making the system look like another one (the platform name, a
missing or refusing ``resource`` module).

Split from ``tests/unit/sandbox/test_not_linux.py``: these tests start real workers; the ones that
do not are in ``tests/unit/sandbox/test_not_linux.py``.
"""

import pytest
from support import COURSE, ROOT

from grader.course.layout import Course
from grader.errors import StudentCrashed, StudentTimeout
from grader.sandbox import forkserver, portable
from grader.sandbox.remote import Student
from grader.sandbox.session import Session
from grader.selfcheck.check import check_path, exit_code

SAMPLES = ROOT / "examples" / "submissions" / "a1"


# ---------------------------------------------------------------- the worker over its standard streams


@pytest.fixture
def like_windows(monkeypatch):
    """Cold workers that talk over stdin and stdout, as on Windows (portable.py)."""
    monkeypatch.setattr(portable, "NEEDED", True)
    monkeypatch.setattr(forkserver, "available", lambda: False)


@pytest.mark.sandbox
def test_over_standard_streams_correct_and_buggy_work_are_told_apart(like_windows):
    course = Course(COURSE)
    correct = check_path(SAMPLES / "alice.ipynb", assignment="a1", course=course)
    buggy = check_path(SAMPLES / "bob.ipynb", assignment="a1", course=course)
    assert exit_code([correct]) == 0, correct
    assert exit_code([buggy]) == 1
    assert [t.name for t in buggy.tests if t.outcome != "passed"] == ["test_sign_of_negative_zero_positive"]


@pytest.mark.sandbox
def test_over_standard_streams_prints_stdin_a_loop_and_an_exit_cost_only_themselves(like_windows):
    session = Session(
        [
            "import os, sys\n"
            "def chatty(x):\n    print('hello from the student'); return sys.stdin.read() + x\n"
            "def forever():\n    while True: pass\n"
            "def leave():\n    os._exit(3)\n"
        ]
    )
    session.start()
    student = Student(session)
    assert isinstance(session._worker, portable.StdioWorker)
    assert student.chatty("!") == "!"  # stdin reads nothing, not the requests
    session.begin_test(2)
    with pytest.raises(StudentTimeout):
        student.forever()
    session.begin_test()
    with pytest.raises(StudentCrashed, match="exited with code 3"):
        student.leave()
    session.begin_test(60)  # a fresh worker: a cold start imports torch again
    assert student.chatty("?") == "?"
    session.close()
    assert "hello from the student" in session.output()
