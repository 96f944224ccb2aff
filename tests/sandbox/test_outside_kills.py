"""A worker killed from outside (not by the student's code, not by dlgrade), or a test that
ran out of clock time on an overloaded machine, costs nothing: the test runs again; twice
is `error`, to grade again. The cause comes from the worker's real exit status."""

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from grader.course.layout import Course
from grader.grading.grade import grade

SUITE = """
import pytest

@pytest.mark.points(1)
def test_slow_answer(student):
    assert student.slow_answer() == 42
"""

CORRECT = "import time\n\ndef slow_answer():\n    time.sleep(3)\n    return 42\n"


def slow_course(root: Path) -> Course:
    (root / "suites" / "k1").mkdir(parents=True)
    (root / "reference").mkdir()
    (root / "suites" / "k1" / "test_k1.py").write_text(SUITE)
    return Course(root)


def _proc(pid: int, name: str) -> str:
    try:
        return Path(f"/proc/{pid}/{name}").read_text()
    except OSError:
        return ""


def _parent(pid: int) -> int:
    stat = _proc(pid, "stat")
    return int(stat.rsplit(")", 1)[1].split()[1]) if stat else 0


def _runs(pid: int, script: str) -> bool:
    """Whether ``pid`` is Python running ``script`` (bwrap's own command line names it too)."""
    return _proc(pid, "comm").strip() != "bwrap" and script in _proc(pid, "cmdline")


def student_workers() -> set[int]:
    """This test's sandboxed workers: descendants of this process that run student code
    (a cold worker.py, or a fork of the zygote), never bwrap or the zygote itself. Not told
    apart by uid: for an ordinary user, the zygote and its forks all show the user's uid."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc(int(entry), "stat")
            if stat:
                children.setdefault(_parent(int(entry)), []).append(int(entry))
    found, todo = set(), [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            cold_worker = _runs(child, "worker.py")
            forked_by_zygote = _runs(child, "zygote.py") and _runs(_parent(child), "zygote.py")
            if cold_worker or forked_by_zygote:
                found.add(child)
    return found


class OutsideKiller(threading.Thread):
    """Kills (SIGKILL) each student worker once it has run for ``after`` seconds, ``times`` times."""

    def __init__(self, times: int, after: float = 1.0):
        super().__init__(daemon=True)
        self.times, self.after, self.killed, self.done = times, after, [], threading.Event()

    def run(self) -> None:
        first_seen: dict[int, float] = {}
        while not self.done.is_set() and len(self.killed) < self.times:
            now = time.monotonic()
            for pid in student_workers() - set(self.killed):
                if now - first_seen.setdefault(pid, now) >= self.after:
                    os.kill(pid, signal.SIGKILL)
                    self.killed.append(pid)
                    break
            time.sleep(0.05)


def grade_while_killing(tmp_path, times: int):
    course = slow_course(tmp_path / "course")
    paper = tmp_path / "alice.py"
    paper.write_text(CORRECT)
    killer = OutsideKiller(times)
    killer.start()
    try:
        (result,) = grade([str(paper)], assignment="k1", course=course)
    finally:
        killer.done.set()
        killer.join()
    return result, killer


@pytest.mark.sandbox
def test_a_correct_submission_whose_worker_is_killed_from_outside_keeps_full_marks(tmp_path):
    result, killer = grade_while_killing(tmp_path, times=1)
    assert len(killer.killed) == 1, "the worker must be killed mid-test for this test to mean anything"
    assert result.status == "graded" and result.score == 1, result


@pytest.mark.sandbox
def test_killed_from_outside_twice_is_an_error_to_grade_again(tmp_path):
    result, killer = grade_while_killing(tmp_path, times=2)
    assert len(killer.killed) == 2
    assert result.status == "error" and "grade again" in result.message, result
    assert "SIGKILL from outside dlgrade" in result.message + " ".join(t.message for t in result.tests)
