"""A worker killed from outside (not by the student's code, not by dlgrade), or a test that
ran out of clock time on an overloaded machine, costs nothing: the test runs again; twice
is `error`, to grade again. The cause comes from the worker's real exit status.

Split from ``tests/sandbox/test_outside_kills.py``: these tests start no worker; the ones that do
are in ``tests/sandbox/test_outside_kills.py``.
"""

import signal

from fake_worker import FakeWorker, one_test_course, submission, use_fake_workers

from grader.grading.grade import grade
from grader.sandbox.process import WorkerTimeout, _signal_of


def test_the_signal_is_read_from_the_exit_status_a_sandbox_gives():
    assert _signal_of(-9) == signal.SIGKILL  # the worker itself
    assert _signal_of(128 + 9) == signal.SIGKILL  # bubblewrap passes a child's signal on as 128 + N
    assert _signal_of(-11) == signal.SIGSEGV
    assert _signal_of(1) is None and _signal_of(0) is None


class SlowOnABusyMachine(FakeWorker):
    """Answers ``answer()`` only after ``clock_timeouts`` calls ran out of clock time (not CPU)."""

    clock_timeouts = 1

    def request(self, message: dict, timeout: float) -> dict:
        if message["op"] == "call" and SlowOnABusyMachine.clock_timeouts > 0:
            SlowOnABusyMachine.clock_timeouts -= 1
            raise WorkerTimeout("no answer before the wall-clock deadline", wall_clock=True)
        return super().request(message, timeout)


def grade_on_a_busy_machine(tmp_path, monkeypatch, *, clock_timeouts: int, overloaded: bool):
    use_fake_workers(monkeypatch, SlowOnABusyMachine)
    monkeypatch.setattr(SlowOnABusyMachine, "clock_timeouts", clock_timeouts)
    monkeypatch.setattr("grader.grading.plugin.machine_overloaded", lambda: overloaded)
    course = one_test_course(tmp_path / "course")
    (result,) = grade([str(submission(tmp_path / "alice.py", 42))], assignment="t9", course=course)
    return result


def test_a_clock_timeout_on_an_overloaded_machine_runs_the_test_again(tmp_path, monkeypatch):
    result = grade_on_a_busy_machine(tmp_path, monkeypatch, clock_timeouts=1, overloaded=True)
    assert result.status == "graded" and result.score == 2


def test_two_clock_timeouts_on_an_overloaded_machine_are_an_error_to_grade_again(tmp_path, monkeypatch):
    result = grade_on_a_busy_machine(tmp_path, monkeypatch, clock_timeouts=2, overloaded=True)
    assert result.status == "error" and "grade again" in result.message
    assert "overloaded machine" in result.tests[0].message


def test_a_clock_timeout_on_a_quiet_machine_is_the_students(tmp_path, monkeypatch):
    result = grade_on_a_busy_machine(tmp_path, monkeypatch, clock_timeouts=1, overloaded=False)
    assert result.status == "graded" and result.tests[0].outcome == "timeout"
