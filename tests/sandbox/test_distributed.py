"""Grading on a Dask cluster gives the verdicts grading here gives, the gradebook gets them,
and nothing is lost or left behind when the cluster fails under the batch.

A real ``LocalCluster``: two worker processes of one thread each, under a nanny, as on a
cluster of many machines minus the network. Its workers' temporary folder is the test's,
so what a task leaves on the node can be seen.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import ROOT

from grader.cli import main
from grader.course.layout import Course
from grader.grading.distributed import chunks, grade_on_dask, wait_for_workers
from grader.grading.grade import grade
from grader.grading.options import GradingOptions
from grader.results.gradebook import Gradebook

dask = pytest.importorskip("dask", reason="install dlgrade[dask] to test grading on Dask")
distributed = pytest.importorskip("dask.distributed", reason="install dlgrade[dask] to test grading on Dask")
pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
SAMPLES = ROOT / "examples" / "submissions" / "a1"
PATHS = [str(SAMPLES / f"{name}.ipynb") for name in ("alice", "bob", "carol", "erin")]


def local_cluster(node: Path):
    return distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", env={"TMPDIR": str(node)}
    )


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Path:
    """The workers' temporary folder."""
    return tmp_path_factory.mktemp("dask-node")


@pytest.fixture(scope="module")
def cluster(node):
    with local_cluster(node) as local:
        yield local


WORKSPACES = f"dlgrade-dask-{os.getuid()}"  # a folder per user on a node


def leftovers(node: Path) -> list[Path]:
    return sorted((node / WORKSPACES).glob("chunk-*"))


def options_on(cluster, course: Course, assignment: str, **choices) -> GradingOptions:
    """Options to grade ``assignment`` on ``cluster``."""
    return GradingOptions.of(course, assignment, scheduler=cluster.scheduler_address, **choices)


def verdicts(results):
    return [(r.submission, r.status, r.sha256, [(t.name, t.outcome) for t in r.tests]) for r in results]


def tiny_course(root: Path, suite: str) -> Course:
    (root / "suites" / "t1").mkdir(parents=True)
    (root / "reference").mkdir()
    (root / "suites" / "t1" / "test_t1.py").write_text(
        "import os, time, pytest\n"
        "@pytest.mark.points(1)\n"
        "def test_f(student):\n"
        f"    answer = student.f()\n{suite}"
        "    assert answer in (1, 2)\n"
    )
    return Course(root)


def answers(folder: Path, *values: int) -> list[str]:
    folder.mkdir()
    paths = []
    for number, value in enumerate(values):
        path = folder / f"s{number}.py"
        path.write_text(f"def f():\n    return {value}\n")
        paths.append(str(path))
    return paths


# ---------------------------------------------------------------- the verdicts, and where they came from


def test_a_dask_worker_gives_the_verdicts_grading_here_gives(cluster, course):
    heard = []
    on_dask = grade_on_dask(
        PATHS,
        options_on(cluster, course, "a1"),
        on_result=lambda result, on: heard.append((result, on)),
        chunk_size=2,
    )
    here = grade(PATHS, assignment="a1", course=course, workers=1)
    assert verdicts(on_dask) == verdicts(here)
    assert sorted(result.submission for result, _ in heard) == sorted(PATHS)
    workers = set(cluster.scheduler_info["workers"])
    for _, on in heard:  # computed on a worker, which says so; not the client's versions
        assert on.device == "cpu" and on.versions["dask_worker"] in workers
        assert {"dlgrade", "torch", "numpy", "python", "host"} <= set(on.versions)


def test_the_cli_records_what_the_cluster_graded_and_where(cluster, tmp_path):
    book = tmp_path / "book.sqlite"
    run = CliRunner().invoke(
        main,
        [
            "grade",
            "-a",
            "a1",
            "--scheduler",
            cluster.scheduler_address,
            "--gradebook",
            str(book),
            PATHS[1],
            PATHS[3],
        ],
    )
    assert run.exit_code == 0, run.output
    with Gradebook(book) as gradebook:
        attempts = gradebook.attempts("a1")
    scores = {a.student: (a.result.status, a.result.score) for a in attempts}
    assert scores == {"bob": ("graded", 18), "erin": ("invalid_notebook", 0)}
    assert {a.versions["dask_worker"] for a in attempts} <= set(cluster.scheduler_info["workers"])


def test_results_arrive_while_their_chunk_is_still_grading(cluster, tmp_path, node):
    # s1 is graded only once the client has heard s0's result, in the same chunk:
    # results that came back only with their chunk would leave s1 waiting in vain
    heard_s0 = tmp_path / "heard-s0"
    course = tiny_course(
        tmp_path / "course",
        (
            "    if answer == 2:\n"
            f"        for _ in range(200):\n"
            f"            if os.path.exists({str(heard_s0)!r}):\n"
            "                break\n"
            "            time.sleep(0.1)\n"
            f"        assert os.path.exists({str(heard_s0)!r}), 'the client had not heard s0'\n"
        ),
    )
    paths = answers(tmp_path / "class", 1, 2)

    def on_result(result, on):
        if result.submission == paths[0]:
            heard_s0.touch()

    results = grade_on_dask(paths, options_on(cluster, course, "t1"), on_result=on_result, chunk_size=2)
    assert [(r.status, r.score) for r in results] == [("graded", 1), ("graded", 1)], results[1].tests
    assert leftovers(node) == []


# ---------------------------------------------------------------- refusing what would give other verdicts


def test_a_worker_with_other_library_versions_is_refused(cluster, course, monkeypatch):
    from grader.grading import distributed as module

    theirs = dict(module.library_versions(), torch="1.0.0")
    monkeypatch.setattr(module, "library_versions", lambda: theirs)
    results = grade_on_dask(PATHS[:2], options_on(cluster, course, "a1"))
    for result in results:
        assert result.status == "error" and "grade this submission again" in result.message
        assert "refused by tcp://" in result.message and "(the client has 1.0.0)" in result.message


def test_cuda_is_the_workers_business_not_the_clients(cluster, course):
    # this client has no GPU, and neither have the workers: they say so, the client does not refuse
    results = grade_on_dask(PATHS[:1], options_on(cluster, course, "a1", device="cuda"))
    assert results[0].status == "error"
    assert "no CUDA GPU is visible here" in results[0].message and "refused by tcp://" in results[0].message


# ---------------------------------------------------------------- failures of the cluster


def test_a_killed_worker_loses_nothing_and_leaves_no_hidden_tests_behind(cluster, tmp_path, node):
    killed = tmp_path / "killed"
    course = tiny_course(tmp_path / "course", wait_for(killed))  # s1 and s2 wait until s0's worker is killed
    paths = answers(tmp_path / "class", 1, 2, 2)
    heard = []
    with distributed.Client(cluster.scheduler_address) as client:
        pids = client.run(os.getpid)

        def on_result(result, on):
            if not heard:  # the worker that graded s0 is still grading s1: kill it
                kill(pids[on.versions["dask_worker"]])
                killed.touch()
            heard.append(result.submission)

        results = grade_on_dask(paths, options_on(cluster, course, "t1"), on_result=on_result, chunk_size=3)
        client.wait_for_workers(2, timeout=120)  # the nanny restarts the killed one, for the next tests
    assert sorted(heard) == sorted(paths)  # each once: the first try's result is not repeated
    assert [(r.status, r.score) for r in results] == [("graded", 1)] * 3
    assert leftovers(node) == []  # the killed task's workspace (suite, reference) was removed


def wait_for(marker: Path, seconds: int = 60) -> str:
    """Suite code (trusted side): a submission answering 2 waits for ``marker``."""
    return (
        "    if answer == 2:\n"
        f"        for _ in range({seconds * 10}):\n"
        f"            if os.path.exists({str(marker)!r}):\n"
        "                break\n"
        "            time.sleep(0.1)\n"
    )


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    while Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text():
        time.sleep(0.05)


def test_a_stopped_scheduler_leaves_every_submission_recorded_or_to_grade_again(tmp_path):
    course = tiny_course(tmp_path / "course", wait_for(tmp_path / "never"))
    paths = answers(tmp_path / "class", 1, 2, 2, 2)  # s0 is graded, the others wait until the end
    book = tmp_path / "book.sqlite"
    quick = {"distributed.comm.timeouts.connect": "2s"}  # its nannies give up on the scheduler soon
    logged = []  # what dask's client logger lets through to the terminal (its own handler: stderr)
    listener = logging.Handler(level=logging.ERROR)
    listener.emit = logged.append
    logging.getLogger("distributed.client").addHandler(listener)
    with dask.config.set(quick), local_cluster(tmp_path / "node") as doomed:
        stopper = threading.Thread(target=stop_at_first_row, args=(book, doomed))
        stopper.start()
        run = CliRunner().invoke(
            main,
            [
                "grade",
                "-a",
                "t1",
                "--course",
                str(course.root),
                "--gradebook",
                str(book),
                "--scheduler",
                doomed.scheduler_address,
                *paths,
            ],
        )
        stopper.join()
    logging.getLogger("distributed.client").removeHandler(listener)
    assert run.exit_code == 1, run.output
    last = run.output.strip().splitlines()[-1]
    assert last.startswith("Error: the Dask scheduler at") and "went away mid-batch" in last
    assert "3 of 4 submissions were not graded" in last and "run the same command again" in last
    with sqlite3.connect(book) as db:
        rows = db.execute("SELECT student, status, message FROM attempts ORDER BY student").fetchall()
    assert [(student, status) for student, status, _ in rows] == [
        ("s0", "graded"),
        ("s1", "error"),
        ("s2", "error"),
        ("s3", "error"),
    ]
    assert all(message.endswith("grade this submission again") for _, _, message in rows[1:])
    # the client says it in one line: no traceback of its own, nor from dask's client logger (the
    # cluster's processes may log theirs: on a real cluster, that goes to their logs)
    assert "Traceback" not in run.output and logged == []


def stop_at_first_row(book: Path, cluster) -> None:
    """Stop ``cluster``'s scheduler as soon as the gradebook holds a result."""
    for _ in range(3000):
        try:
            with sqlite3.connect(book) as db:
                if db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]:
                    break
        except sqlite3.OperationalError:  # not created yet
            pass
        time.sleep(0.1)
    cluster.sync(cluster.scheduler.close)


# ---------------------------------------------------------------- sizing chunks for the workers to come


class GrowingCluster:
    """A stand-in client whose workers join one by one, as Slurm jobs start."""

    def __init__(self):
        self.asked = 0

    def scheduler_info(self, n_workers=-1):
        self.asked += 1
        return {"workers": {f"tcp://node{i}:1": {"nthreads": 16} for i in range(min(self.asked - 1, 8))}}


def test_chunks_are_sized_for_the_workers_waited_for(monkeypatch):
    from grader.grading import distributed as module

    monkeypatch.setattr(module, "POLL_SECONDS", 0)
    waits = []
    threads = wait_for_workers(GrowingCluster(), 8, lambda connected, wanted: waits.append(connected))
    assert threads == 128 and waits == list(range(8))
    assert len(chunks(list(range(300)), threads)) == 300  # one each: every thread gets work
    assert len(chunks(list(range(300)), 16)) == 60  # sized for one node: 60 chunks of 5


def test_the_cli_leaves_the_gpus_to_the_workers_and_says_what_it_waits_for(monkeypatch, tmp_path):
    # this machine has no GPU (a login node): with --scheduler, --device cuda is the workers' business
    seen = {}

    def grade_class(arguments, options, *, events, **outputs):
        seen["options"] = options
        events.waiting_for_workers(3, 8)
        return []

    monkeypatch.setattr("grader.cli.grade_class", grade_class)
    run = CliRunner().invoke(
        main,
        [
            "grade",
            "-a",
            "a1",
            "--scheduler",
            "tcp://scheduler:8786",
            "--device",
            "cuda",
            "--min-workers",
            "8",
            "--gradebook",
            str(tmp_path / "book.sqlite"),
            PATHS[0],
        ],
    )
    assert run.exit_code == 0, run.output
    options = seen["options"]
    assert (options.device, options.scheduler, options.min_workers) == ("cuda", "tcp://scheduler:8786", 8)
    assert "waiting for Dask workers: 3 of 8 have joined" in run.output
    bad = CliRunner().invoke(
        main, ["grade", "-a", "a1", "--scheduler", "tcp://scheduler:8786", "--device", "gpu", PATHS[0]]
    )
    assert bad.exit_code != 0 and "expected auto, cpu, cuda or cuda:N" in bad.output


def test_only_workspaces_whose_task_is_gone_are_reaped(tmp_path):
    import fcntl

    from grader.grading.dask_task import LOCK, YOUNG_SECONDS, reap

    running, abandoned, being_made, left_unlocked = (tmp_path / f"chunk-{n}" for n in "abcd")
    for folder in (running, abandoned, being_made, left_unlocked):
        folder.mkdir()
        (folder / "test_hidden.py").write_text("# the hidden tests")
    for folder in (running, abandoned):
        (folder / LOCK).touch()
    held = os.open(running / LOCK, os.O_RDWR)  # a task still running holds its lock
    fcntl.flock(held, fcntl.LOCK_EX)
    old = time.time() - YOUNG_SECONDS - 10
    os.utime(left_unlocked, (old, old))  # its maker died before it could lock it
    try:
        assert reap(tmp_path) == [abandoned, left_unlocked]
    finally:
        os.close(held)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunk-a", "chunk-c"]


def test_a_worker_that_starts_removes_the_workspaces_abandoned_on_its_node(cluster, node):
    from grader.grading.dask_task import LOCK, Reaper

    abandoned = node / WORKSPACES / "chunk-left-by-a-killed-worker"
    abandoned.mkdir(parents=True)
    (abandoned / LOCK).touch()  # nobody holds the lock: its worker is gone
    with distributed.Client(cluster.scheduler_address) as client:
        client.register_plugin(Reaper(), name="dlgrade-reaper-test")  # as a worker that joins runs it
    assert not abandoned.exists()
