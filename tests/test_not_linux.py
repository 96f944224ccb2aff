"""The worker's start-up off Linux, simulated on Linux: the rlimits a laptop gives it.

Each case runs in a fresh interpreter that imports the worker script as a module and
calls ``set_limits`` after making the system look like another one (the platform name, a
missing or refusing ``resource`` module).
"""

import subprocess
import sys

import pytest
from support import ROOT

from grader.course import Course
from grader.errors import StudentCrashed, StudentTimeout
from grader.sandbox import forkserver, portable
from grader.sandbox.remote import Student
from grader.sandbox.session import Session
from grader.selfcheck import check_path, exit_code

SANDBOX = ROOT / "grader" / "sandbox"
SAMPLES = ROOT / "examples" / "submissions" / "a1"
PROLOGUE = f"""
import argparse, resource, sys
sys.path.insert(0, {str(SANDBOX)!r})
import worker
args = argparse.Namespace(cpu_seconds=100, max_file_mb=64, max_open_files=256, memory_mb=3072,
                          max_processes=4096)
"""


def _run(body: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", PROLOGUE + body]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_without_the_resource_module_the_worker_sets_no_limits_and_goes_on():
    run = _run("worker.resource = None\nworker.set_limits(args)\nprint('started')")
    assert run.returncode == 0 and "started" in run.stdout, run.stderr


def test_on_macos_a_limit_the_system_refuses_is_skipped_and_no_address_space_limit_is_set():
    refusing = """
def setrlimit(which, value, real=resource.setrlimit):
    if which == resource.RLIMIT_NPROC:
        raise ValueError("current limit exceeds maximum limit")
    real(which, value)
worker.resource.setrlimit = setrlimit
worker.sys.platform = "darwin"
worker.set_limits(args)
print(resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY,
      resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""
    run = _run(refusing)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "256"]  # the others are set


def test_on_linux_a_refused_limit_is_still_an_error():
    refusing = """
def setrlimit(which, value):
    raise ValueError("refused")
worker.resource.setrlimit = setrlimit
worker.set_limits(args)
"""
    run = _run(refusing)
    assert run.returncode != 0 and "ValueError: refused" in run.stderr


# ---------------------------------------------------------------- the worker over its standard streams


@pytest.fixture
def like_windows(monkeypatch):
    """Cold workers that talk over stdin and stdout, as on Windows (portable.py)."""
    monkeypatch.setattr(portable, "NEEDED", True)
    monkeypatch.setattr(forkserver, "available", lambda: False)


@pytest.mark.sandbox
def test_over_standard_streams_correct_and_buggy_work_are_told_apart(like_windows):
    course = Course(ROOT)
    correct = check_path(SAMPLES / "alice.ipynb", assignment="a1", course=course)
    buggy = check_path(SAMPLES / "bob.ipynb", assignment="a1", course=course)
    assert exit_code([correct]) == 0, correct
    assert exit_code([buggy]) == 1
    assert [t.name for t in buggy.tests if t.outcome != "passed"] == ["test_sign_of_negative_zero_positive"]


@pytest.mark.sandbox
def test_over_standard_streams_prints_stdin_a_loop_and_an_exit_cost_only_themselves(like_windows):
    session = Session(["import os, sys\n"
                       "def chatty(x):\n    print('hello from the student'); return sys.stdin.read() + x\n"
                       "def forever():\n    while True: pass\n"
                       "def leave():\n    os._exit(3)\n"])  # fmt: skip
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
