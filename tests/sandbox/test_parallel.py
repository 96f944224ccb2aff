"""Grading on several cores: the same verdicts, in the same order, whatever goes wrong where.

Each grading process is a spawned interpreter with its own pytest session and fork
server (``grader/grading/parallel.py``); these tests compare it with grading in one process,
and kill its pieces to see that only what they held is lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import COURSE, ROOT

from grader.course.layout import Course
from grader.grading.grade import grade

pytestmark = pytest.mark.sandbox
SAMPLES = ROOT / "examples" / "submissions" / "a1"
MIXED = [SAMPLES / f"{name}.ipynb" for name in ("alice", "bob", "carol", "erin")]


def verdicts(results):
    return [(r.submission, r.status, r.score, [(t.name, t.outcome) for t in r.tests]) for r in results]


def test_two_grading_processes_give_the_verdicts_of_one_in_the_order_given(course):
    paths = [str(p) for p in MIXED]
    heard = []
    alone = grade(paths, assignment="a1", course=course, workers=1)
    together = grade(paths, assignment="a1", course=course, workers=2, on_result=heard.append)
    assert verdicts(together) == verdicts(alone)
    assert sorted(r.submission for r in heard) == sorted(paths)  # each heard once, as it finished
    assert [r.score for r in together] == [23, 18, 0, 0]


def tiny_course(root: Path, suite: str) -> Course:
    (root / "suites" / "t1").mkdir(parents=True)
    (root / "reference").mkdir()
    (root / "suites" / "t1" / "test_t1.py").write_text(suite)
    return Course(root)


def submission(folder: Path, name: str, body: str) -> str:
    path = folder / f"{name}.py"
    path.write_text(f"def f():\n    {body}\n")
    return str(path)


def test_a_grading_process_that_dies_costs_only_the_submission_it_held(tmp_path):
    # The suite itself (trusted code, in the grading process) dies on one answer:
    # the stand-in for a grader crash, which student code cannot cause.
    course = tiny_course(
        tmp_path / "course",
        (
            "import os, pytest\n"
            "@pytest.mark.points(1)\n"
            "def test_f(student):\n"
            "    if student.f() == 13:\n"
            "        os._exit(3)\n"
            "    assert student.f() == 1\n"
        ),
    )
    folder = tmp_path / "class"
    folder.mkdir()
    paths = [
        submission(folder, "s1", "return 1"),
        submission(folder, "s2", "return 13"),
        submission(folder, "s3", "return 1"),
        submission(folder, "s4", "return 2"),
    ]
    results = grade(paths, assignment="t1", course=course, workers=2)
    expected = [("graded", 1), ("error", 0), ("graded", 1), ("graded", 0)]
    assert [(r.status, r.score) for r in results] == expected
    assert "the grading process died" in results[1].message


def test_grading_processes_that_cannot_start_stop_the_batch_with_the_reason(tmp_path):
    # Spawn runs the calling script again in each grading process: without a __main__
    # guard, each one dies at start. One error, not one death per submission.
    paths = [str(p) for p in MIXED]
    script = tmp_path / "no_main_guard.py"
    script.write_text(
        "from grader.course.layout import Course\nfrom grader.grading.grade import grade\n"
        f"grade({paths!r}, assignment='a1', course=Course({str(COURSE)!r}),\n"
        "      workers=2)\n"
    )
    run = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode != 0
    assert "the grading processes die before grading anything" in run.stderr
    assert "if __name__ == '__main__':" in run.stderr


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that is gone to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def grading_processes(batch: int) -> set[int]:
    """The batch's grading processes (multiprocessing's resource tracker is a child too)."""
    return {pid for pid in children_of(batch) if b"spawn_main" in _cmdline(pid)}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def grading(graders: set[int]) -> bool:
    """Two grading processes, each past its start (it has started a fork server or worker).
    One killed while still importing leaves too (``die_with_parent``), but only once its
    imports are done: seconds, on a busy machine."""
    return len(graders) >= 2 and all(children_of(pid) for pid in graders)


def test_grading_processes_die_with_a_batch_killed_by_sigkill(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(6):
        (folder / f"s{i}.ipynb").write_bytes((SAMPLES / "dave.ipynb").read_bytes() + b" " * i)  # slow ones
    command = [
        sys.executable,
        "-m",
        "grader.cli",
        "grade",
        "-a",
        "a1",
        "--workers",
        "2",
        "--test-timeout",
        "2",
        "--gradebook",
        str(tmp_path / "book.sqlite"),
        str(folder),
    ]
    batch = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120  # two fresh interpreters import torch on a busy machine
    while not grading(grading_processes(batch.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    graders = grading_processes(batch.pid)
    assert grading(graders), "the grading processes never started grading"
    batch.send_signal(signal.SIGKILL)
    batch.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in graders) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in graders if alive(pid)]
