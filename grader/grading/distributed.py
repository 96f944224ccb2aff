"""Grading on a Dask cluster: ``dlgrade grade --scheduler tcp://host:8786 ...``.

Dask moves the work; it does not grade. Each task carries a chunk of submissions
(their bytes) and the files the verdicts depend on (the suite and the reference),
so a Dask worker needs dlgrade installed and nothing else: no shared disk, no
copy of the course. On the worker, ``dask_task.grade_chunk`` runs an ordinary grading
process on them: the same pytest session, sandbox and limits as on one machine. Only
plain dictionaries come back; the gradebook is written here, by the caller.

    client ──(chunk: submissions' bytes + suite files + client's versions)──▶ Dask worker
       ▲                                                    └─ python -m grader.grading.dask_worker ─▶ workers
       ├──────── each result as it is finished (a Dask event) ────┘
       └──────── the whole chunk when the task ends (the same results: the first one heard counts)

What this side guarantees: every submission it was given reaches ``on_result`` exactly
once, graded or as an ``error`` to "grade this submission again", whatever happens to
the cluster. A Dask worker that dies mid-chunk has its chunk run again elsewhere (Dask
retries it); what it had finished was already heard. If the scheduler goes away, or the
client loses it, the submissions not yet heard are reported as errors to grade again,
then ``SchedulerError`` says in one line what happened.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grader.course.layout import Course
from grader.errors import DlgradeError, SuiteError
from grader.grading.options import GradingOptions
from grader.results.gradebook import library_versions
from grader.results.records import SubmissionResult

CHUNKS_PER_THREAD = 4  # small enough to balance the load, large enough to pay a grading process once
MAX_CHUNK = 25
POLL_SECONDS = 0.2


class SchedulerError(DlgradeError):
    """The Dask scheduler cannot be reached or went away, or dask.distributed is not installed."""


@dataclass(frozen=True)
class GradedOn:
    """Where a result was computed, as the gradebook records it: the Dask worker's device and
    library versions (with its address and host), not the client's. Empty for a submission
    that was never graded."""

    device: str = ""
    versions: dict | None = None


def grade_on_dask(
    paths: list[str],
    options: GradingOptions,
    *,
    on_result: Callable[[SubmissionResult, GradedOn], None] | None = None,
    connect_seconds: float = 20,
    on_waiting: Callable[[int, int], None] | None = None,
    chunk_size: int | None = None,
) -> list[SubmissionResult]:
    """Grade ``paths`` on the Dask cluster at ``options.scheduler``; results in the order of ``paths``.

    ``on_result`` hears each result, and where it was computed, as soon as the worker
    has finished it. ``options.device`` is resolved on each worker, where the GPUs are.
    ``options.min_workers``: wait until that many Dask workers have joined before sizing the
    chunks (``on_waiting(connected, wanted)`` hears the wait), so that a cluster whose
    workers are still queued as Slurm jobs gets chunks for all of them.
    ``chunk_size``: submissions per task (default: about four tasks per worker thread).
    The options travel as plain data (``GradingOptions.to_plain``), never pickled.
    """
    scheduler = options.scheduler
    if not scheduler:  # the batch comes here only with one
        raise SchedulerError("no Dask scheduler address was given")
    files = course_files(options.course, options.assignment, options.suite)
    with _quiet_dask(), _connected(scheduler, connect_seconds) as client:
        client.register_plugin(_reaper(), name="dlgrade-reaper")
        threads = wait_for_workers(client, options.min_workers, on_waiting)
        batch = _Batch(paths, options.assignment, options.suite, on_result)
        topic = f"dlgrade-{uuid.uuid4().hex}"
        client.subscribe_topic(topic, batch.hear)
        request = {
            "options": options.to_plain(),
            "topic": topic,
            "versions": {k: str(v) for k, v in library_versions().items()},
        }
        try:
            for chunk in chunks(list(enumerate(paths)), threads, chunk_size):
                batch.submit(client, chunk, files, request)
            batch.collect()
        except _ClusterLost as lost:
            missing = batch.give_up(f"the Dask scheduler at {scheduler} went away mid-batch ({lost})")
            raise SchedulerError(
                f"the Dask scheduler at {scheduler} went away mid-batch ({lost}): {missing} of {len(paths)} "
                "submissions were not graded and are reported as errors; run the same command again "
                "once the cluster is back to grade them"
            ) from None
        finally:
            _unsubscribe(client, topic)
    return batch.in_order()


def wait_for_workers(client, wanted: int, on_waiting: Callable[[int, int], None] | None = None) -> int:
    """Wait until ``wanted`` Dask workers have joined; returns their threads, for sizing chunks."""
    told = None
    while True:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        if len(workers) >= max(1, wanted):
            return max(1, sum(w["nthreads"] for w in workers.values()))
        if on_waiting is not None and told != len(workers):
            on_waiting(len(workers), max(1, wanted))
            told = len(workers)
        time.sleep(POLL_SECONDS * 5)


def chunks(items: list, threads: int, size: int | None = None) -> list[list]:
    """``items`` cut into chunks: about ``CHUNKS_PER_THREAD`` per worker thread, at most ``MAX_CHUNK``."""
    size = size or max(1, min(MAX_CHUNK, math.ceil(len(items) / (threads * CHUNKS_PER_THREAD))))
    return [items[start : start + size] for start in range(0, len(items), size)]


def course_files(course: Course, assignment: str, suite: str) -> dict[str, bytes]:
    """What a verdict needs besides dlgrade: the suite's folder, the reference package and
    the handout (its graded names and given code, ``intake/given_code.py``), whose source notebook
    each chunk also grades first (``preflight.py``)."""
    folders = [course.suite_dir(assignment, suite), course.root / "reference"]
    files = [
        path
        for folder in folders
        if folder.is_dir()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    ]
    files += course.handout_notebooks(assignment)
    return {str(path.relative_to(course.root)): path.read_bytes() for path in files}


class _ClusterLost(Exception):
    """The client has lost the scheduler: no pending task will report back."""


class _Batch:
    """The client's view of one batch: each submission heard exactly once."""

    def __init__(self, paths: list[str], assignment: str, suite: str, on_result):
        self.paths = paths
        self.assignment = assignment
        self.suite = suite
        self.on_result = on_result
        self.results: dict[int, SubmissionResult] = {}
        self.events: queue.SimpleQueue = queue.SimpleQueue()  # filled by Dask's thread, read by ours
        self.futures: dict = {}  # future -> the indexes of its chunk

    def submit(self, client, chunk: list[tuple[int, str]], files: dict[str, bytes], request: dict) -> None:
        submissions = [(index, path, Path(path).read_bytes()) for index, path in chunk]
        future = client.submit(_task(), submissions, files, request, pure=False)
        self.futures[future] = [index for index, _ in chunk]

    def hear(self, event: tuple) -> None:
        """A Dask event from a worker: one result, finished just now (runs in Dask's thread)."""
        message = json.loads(event[1])
        self.events.put((message["index"], message["result"], message["on"]))

    def collect(self) -> None:
        """Take results as they come, until every task has ended."""
        pending = list(self.futures)
        while pending:
            self._take_events()
            still = []
            for future in pending:
                if future.done():
                    self._take_task(future)
                else:
                    still.append(future)
            pending = still
            if pending:
                time.sleep(POLL_SECONDS)
        self._take_events()

    def _take_events(self) -> None:
        while True:
            try:
                index, data, on = self.events.get_nowait()
            except queue.Empty:
                return
            self._keep(index, data, GradedOn(on["device"], on["versions"]))

    def _take_task(self, future) -> None:
        if future.status == "cancelled":
            raise _ClusterLost(_cancel_reason(future))
        try:
            chunk = future.result()
        except SuiteError:
            raise
        except Exception as exc:  # the task failed: its workers kept dying (KilledWorker), or worse
            for index in self._indexes(future):
                self._keep_lost(index, f"its Dask task failed ({_one_line(exc)})")
            return
        on = GradedOn(chunk["on"]["device"], chunk["on"]["versions"])
        for index, data in chunk["results"]:
            self._keep(index, data, on)

    def _indexes(self, future) -> list[int]:
        return [i for i in self.futures[future] if i not in self.results]

    def _keep(self, index: int, data: dict, on: GradedOn) -> None:
        if index in self.results:  # heard already, as an event or from a first try of the chunk
            return
        result = SubmissionResult.from_dict({**data, "submission": self.paths[index]})
        self.results[index] = result
        if self.on_result is not None:
            self.on_result(result, on)

    def _keep_lost(self, index: int, why: str) -> None:
        lost = SubmissionResult.lost(self.paths[index], self.assignment, self.suite, why)
        self._keep(index, lost.to_dict(), GradedOn("", {}))  # computed nowhere

    def give_up(self, why: str) -> int:
        """Report every submission not heard yet as an error to grade again; returns how many."""
        self._take_events()
        missing = [i for i in range(len(self.paths)) if i not in self.results]
        for index in missing:
            self._keep_lost(index, why)
        return len(missing)

    def in_order(self) -> list[SubmissionResult]:
        return [self.results[i] for i in range(len(self.paths))]


def _cancel_reason(future) -> str:
    try:
        future.result()  # done: returns or raises at once
    except Exception as exc:  # FutureCancelledError says why: "scheduler-connection-lost"
        text = str(exc)
        return "the client lost its connection" if "connection-lost" in text else _one_line(exc)
    return "cancelled"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _task():
    from grader.grading.dask_task import grade_chunk

    return grade_chunk


def _reaper():
    from grader.grading.dask_task import Reaper

    return Reaper()


@contextmanager
def _connected(scheduler: str, seconds: float) -> Iterator:
    try:
        from dask.distributed import Client
    except ImportError:
        raise SchedulerError("--scheduler needs dask.distributed: pip install 'dlgrade[dask]'") from None
    try:
        client = Client(scheduler, timeout=f"{seconds}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler}: {_one_line(exc)}") from None
    try:
        yield client
    finally:
        client.close(timeout=seconds)


def _unsubscribe(client, topic: str) -> None:
    try:
        client.unsubscribe_topic(topic)
    except Exception:  # noqa: BLE001 (the scheduler is gone: nothing to unsubscribe from)
        pass


@contextmanager
def _quiet_dask() -> Iterator[None]:
    """dask.distributed logs a lost connection with whole tracebacks; dlgrade says what
    happened in one line instead, so its loggers are quiet while a batch runs."""
    names = ["distributed", *(n for n in logging.root.manager.loggerDict if n.startswith("distributed."))]
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
