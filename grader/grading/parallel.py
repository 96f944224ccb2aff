"""Grading on every core: several grading processes pull submissions from one queue.

    parent (this module)  ── queue of (index, path) ──▶  grading process 1 ─▶ its fork server ─▶ workers
          ▲                                        └──▶  grading process 2 ─▶ its fork server ─▶ workers
          └──────────── ("result", index, plain dict) ◀──┘

Each grading process is an ordinary trusted grader (``stream.grade_stream``): one
pytest session over the suite, its own fork server, student code only in its
sandboxed workers. It takes the next submission when it has finished the last one,
so a slow submission holds up one process, not the batch. Results come back as
plain dictionaries and reach ``on_result`` here, in the parent, as each one
finishes: the parent alone writes the gradebook.

Processes are started with ``spawn`` (a fresh interpreter), never ``fork``: the
parent may have used torch's thread pool, and a forked copy of it can hang. A
grading process dies with its parent (``PR_SET_PDEATHSIG``), and one that dies on
its own costs only the submission it held, which is reported as an ``error``; a
fresh process takes its place.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import signal
import sys
from collections.abc import Callable

from grader.errors import DlgradeError, SuiteError
from grader.grading.options import GradingOptions
from grader.grading.stream import grade_stream
from grader.results.records import SubmissionResult

POLL_SECONDS = 0.5
PR_SET_PDEATHSIG = 1  # prctl: the signal this process gets when its parent dies


def default_workers() -> int:
    """The cores this process may run on: one grading process each."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def grade_in_parallel(
    paths: list[str],
    options: GradingOptions,
    *,
    workers: int,
    on_result: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade ``paths`` with ``workers`` grading processes; results in the order of ``paths``.

    ``options.devices``: one device per grading process, in turn (several GPUs: one each).
    """
    context = multiprocessing.get_context("spawn")
    tasks, replies = context.Queue(), context.Queue()
    for index, path in enumerate(paths):
        tasks.put((index, path))
    count = min(workers, len(paths))
    for _ in range(count):
        tasks.put(None)  # one "no more work" for each grading process
    batch = _Batch(paths, options, context, tasks, replies, options.devices or (options.device,))
    try:
        for slot in range(count):
            batch.start(slot)
        return batch.collect(on_result)
    finally:
        batch.stop()


class _Batch:
    """The parent's view of one parallel batch: its processes and what each is grading."""

    def __init__(self, paths, options, context, tasks, replies, devices):
        self.paths = paths
        self.options = options
        self.context = context
        self.tasks = tasks
        self.replies = replies
        self.devices = devices
        self.processes: dict[int, multiprocessing.Process] = {}  # slot -> process
        self.holding: dict[int, int] = {}  # slot -> index of the submission it is grading
        self.results: dict[int, SubmissionResult] = {}
        self.started: set[int] = set()  # every submission a grading process has taken
        self.finished: set[int] = set()
        self.restarts = 0
        self.early_deaths = 0  # processes that died before any submission was taken

    def start(self, slot: int) -> None:
        options = self.options.but(device=self.devices[slot % len(self.devices)])
        arguments = (slot, options, self.tasks, self.replies, os.getpid())
        process = self.context.Process(target=_grading_process, args=arguments, name=f"dlgrade-grader-{slot}")
        process.start()
        self.processes[slot] = process

    def collect(self, on_result) -> list[SubmissionResult]:
        suite_errors: list[str] = []
        while len(self.finished) < len(self.processes):
            try:
                kind, slot, index, payload = self.replies.get(timeout=POLL_SECONDS)
            except queue.Empty:
                self._replace_dead(on_result)
                continue
            if kind == "start":
                self.holding[slot] = index
                self.started.add(index)
            elif kind == "result":
                self.holding.pop(slot, None)
                self._keep(index, SubmissionResult.from_dict(payload), on_result)
            elif kind == "suite_error":
                suite_errors.append(payload)
            elif kind == "done":
                self.finished.add(slot)
        if suite_errors:
            raise SuiteError(suite_errors[0])
        for index in range(len(self.paths)):  # taken by a process that died before saying so
            if index not in self.results:
                self._keep(index, _lost(self.paths[index], self.options, None), on_result)
        return [self.results[i] for i in range(len(self.paths))]

    def _keep(self, index: int, result: SubmissionResult, on_result) -> None:
        self.results[index] = result
        if on_result is not None:
            on_result(result)

    def _replace_dead(self, on_result) -> None:
        """A grading process that died without saying goodbye loses only what it held."""
        for slot, process in list(self.processes.items()):
            if slot in self.finished or process.is_alive():
                continue
            index = self.holding.pop(slot, None)
            if index is not None:
                self._keep(index, _lost(self.paths[index], self.options, process.exitcode), on_result)
            elif not self.started:
                self._give_up_if_none_can_start(process.exitcode)
            if len(self.started) == len(self.paths) or self.restarts >= len(self.paths):
                # nothing left to take (a fresh process would wait for work forever),
                # or something is badly wrong: stop replacing
                self.finished.add(slot)
                continue
            self.restarts += 1
            self.start(slot)

    def _give_up_if_none_can_start(self, exitcode: int | None) -> None:
        """As many deaths as slots before any submission was taken: the grading processes
        cannot start here, and replacing them would only repeat that for every submission."""
        self.early_deaths += 1
        if self.early_deaths >= len(self.processes):
            raise DlgradeError(
                f"the grading processes die before grading anything (exit code {exitcode}); "
                "their error is printed above. A script that calls grade() with several workers "
                "must start under `if __name__ == '__main__':`, as multiprocessing's spawn requires."
            )

    def stop(self) -> None:
        for process in self.processes.values():
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
        for channel in (self.tasks, self.replies):
            channel.close()
            channel.cancel_join_thread()


def _lost(path: str, options: GradingOptions, exitcode: int | None) -> SubmissionResult:
    why = f"the grading process died (exit code {exitcode})"
    return SubmissionResult.lost(path, options.assignment, options.suite, why)


def _grading_process(slot: int, options: GradingOptions, tasks, replies, parent: int) -> None:
    """One grading process: take submissions until told there are none left."""
    die_with_parent(parent)
    current: list[int] = []

    def paths():
        for index, path in iter(tasks.get, None):
            current[:] = [index]
            replies.put(("start", slot, index, None))
            yield path

    def send(result: SubmissionResult) -> None:
        replies.put(("result", slot, current[0], result.to_dict()))

    try:
        grade_stream(paths(), options, send)
    except SuiteError as exc:
        replies.put(("suite_error", slot, None, str(exc)))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole group: the parent says how to go on
        return
    replies.put(("done", slot, None, None))


def die_with_parent(parent: int) -> None:
    """If the batch is killed (``kill -9`` included), its grading processes go with it.

    The parent may have died while this process was still starting, before the
    request to the kernel: then the parent is no longer ``parent``, and we leave.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:
        os._exit(1)
