"""Time limits count the worker's CPU time, with a wall-clock backstop ``wall_factor`` times
longer: a verdict must not depend on how busy the machine is."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from grader.errors import StudentTimeout
from grader.sandbox.limits import Limits
from grader.sandbox.remote import Student
from grader.sandbox.session import Session

pytestmark = pytest.mark.sandbox

CELLS = [
    "import time\n"
    "def work(seconds):\n"
    "    '''Compute for ``seconds`` of this process's CPU time, however busy the machine is.'''\n"
    "    start = time.process_time()\n"
    "    while time.process_time() - start < seconds:\n"
    "        pass\n"
    "    return True\n"
    "def nap(seconds):\n"
    "    time.sleep(seconds)\n"
    "    return True\n"
]


@pytest.fixture(scope="module")
def student():
    """One submission for the module: a test that times out costs its worker, and the next
    request starts a fresh one, as in grading."""
    session = Session(CELLS, limits=Limits(test_seconds=1.0))
    session.start()
    yield Student(session)
    session.close()


@pytest.fixture
def every_core_busy():
    """Three busy loops per core, for the duration of one test only."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3 * os.cpu_count())]
    time.sleep(0.5)  # all of them spinning
    yield
    for loop in loops:
        loop.kill()
        loop.wait()


def test_correct_work_keeps_its_verdict_while_other_processes_saturate_every_core(student, every_core_busy):
    """0.4 s of CPU time within a 1 s limit: on the clock it takes about 1.7 s here (the worker
    gets about 2 of every 7 slices of a core), which a wall-clock limit failed."""
    student._session.begin_test()
    started = time.monotonic()
    assert student.work(0.4) is True
    print(f"0.4 s of CPU time took {time.monotonic() - started:.1f} s on the clock")


def test_a_worker_that_computes_past_its_cpu_time_is_stopped(student):
    student._session.begin_test()
    with pytest.raises(StudentTimeout):
        student.work(30)
    assert student._session._spent >= 1.0  # it was charged what it used


def test_a_worker_that_waits_is_stopped_by_the_clock_backstop(student):
    started = time.monotonic()  # the test's clock starts at begin_test, so ours starts before it
    student._session.begin_test()
    assert student.work(0) is True  # a fresh worker, if the last test ended the one before
    with pytest.raises(StudentTimeout):
        student.nap(60)
    assert 4.0 <= time.monotonic() - started < 10  # wall_factor (4) times the 1 s limit
