"""Grading on a Dask cluster: ``dlgrade grade --scheduler tcp://host:8786 ...``.

Dask moves the work; it does not grade. Each task carries a chunk of submissions
(their bytes) and the files the verdicts depend on (the suite and the reference),
so a Dask worker needs dlgrade installed and nothing else: no shared disk, no
copy of the course. On the worker, the task writes both into a private temporary
folder and runs an ordinary grading process on them (``python -m grader.chunk``):
the same pytest session, the same sandbox, the same limits as on one machine.
Only plain dictionaries come back; the gradebook is written here, by the caller.

Why a subprocess and not the task's own thread: a Dask worker runs several tasks
at once in threads, and pytest is not made to run twice in one process.

    client ──(chunk: submissions' bytes + suite files)──▶ Dask worker
                                                         └─ python -m grader.chunk ─▶ sandboxed workers
    client ◀──────────────(plain result dicts)──────────┘
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from grader.course import Course
from grader.errors import DlgradeError, SuiteError
from grader.grading import GradingOptions
from grader.results import SubmissionResult
from grader.sandbox.limits import Limits

CHUNKS_PER_THREAD = 4  # small enough to balance the load, large enough to pay a fork server once
MAX_CHUNK = 25


class SchedulerError(DlgradeError):
    """The Dask scheduler cannot be reached, or dask.distributed is not installed."""


def grade_on_dask(
    paths: list[str],
    *,
    assignment: str,
    scheduler: str,
    course: Course | None = None,
    suite: str = "hidden",
    mode: str = "definitions",
    limits: Limits = Limits(),
    device: str = "cpu",
    on_result: Callable[[SubmissionResult], None] | None = None,
    connect_seconds: float = 20,
) -> list[SubmissionResult]:
    """Grade ``paths`` on the Dask cluster at ``scheduler``; results in the order of ``paths``.

    ``on_result`` hears each result as its chunk comes back.
    """
    client = _connect(scheduler, connect_seconds)
    course = course or Course.find()
    try:
        files = course_files(course, assignment, suite)
        options = {"assignment": assignment, "suite": suite, "mode": mode, "limits": asdict(limits),
                   "device": device}  # fmt: skip
        chunks = _chunks(list(enumerate(paths)), _threads(client))
        futures = [client.submit(grade_chunk, [(i, p, Path(p).read_bytes()) for i, p in chunk], files,
                                 options, pure=False) for chunk in chunks]  # fmt: skip
        return _gather(client, futures, paths, on_result)
    finally:
        client.close()


def _connect(scheduler: str, seconds: float):
    try:
        from dask.distributed import Client
    except ImportError:
        raise SchedulerError("--scheduler needs dask.distributed: pip install 'dlgrade[dask]'") from None
    try:
        return Client(scheduler, timeout=f"{seconds}s")
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


def _threads(client) -> int:
    return max(1, sum(client.nthreads().values()))


def _chunks(items: list, threads: int) -> list[list]:
    size = max(1, min(MAX_CHUNK, math.ceil(len(items) / (threads * CHUNKS_PER_THREAD))))
    return [items[start : start + size] for start in range(0, len(items), size)]


def _gather(client, futures, paths: list[str], on_result) -> list[SubmissionResult]:
    from dask.distributed import as_completed

    results: dict[int, SubmissionResult] = {}
    for future in as_completed(futures):
        for index, data in future.result():
            result = SubmissionResult.from_dict({**data, "submission": paths[index]})
            results[index] = result
            if on_result is not None:
                on_result(result)
    return [results[i] for i in sorted(results)]


def course_files(course: Course, assignment: str, suite: str) -> dict[str, bytes]:
    """What a verdict needs besides dlgrade: the suite's folder and the reference package."""
    folders = [course.suite_dir(assignment, suite), course.root / "reference"]
    return {
        str(path.relative_to(course.root)): path.read_bytes()
        for folder in folders if folder.is_dir()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }  # fmt: skip


# ---------------------------------------------------------------- on the Dask worker


def grade_chunk(submissions: list[tuple[int, str, bytes]], files: dict[str, bytes],
                options: dict) -> list[tuple[int, dict]]:  # fmt: skip
    """A Dask task: grade these submissions here, in a fresh grading process.

    Returns (index, result dict) for each; a submission the grading process never
    reported (it died) comes back as an ``error``, never as a silent gap.
    """
    with tempfile.TemporaryDirectory(prefix="dlgrade-dask-") as tmp:
        root = Path(tmp)
        course = root / "course"
        for relative, data in files.items():
            (course / relative).parent.mkdir(parents=True, exist_ok=True)
            (course / relative).write_bytes(data)
        local = {}
        for index, name, data in submissions:
            path = root / "submissions" / str(index) / Path(name).name
            path.parent.mkdir(parents=True)
            path.write_bytes(data)
            local[index] = path
        reported = _run_chunk(list(local.values()), course, options, root / "results.jsonl")
        results = [(i, reported.get(str(path)) or _lost(str(path), options)) for i, path in local.items()]
        return [(i, _with_isolation_note(data)) for i, data in results]


def _with_isolation_note(data: dict) -> dict:
    """A Dask node without the full sandbox still grades, but every result says so."""
    from grader.sandbox.process import isolation_warning

    warning = isolation_warning()
    if warning is None:
        return data
    note = f"graded on a Dask worker without the full sandbox: {warning}"
    return {**data, "notes": [*data.get("notes", []), note]}


def _run_chunk(paths: list[Path], course: Path, options: dict, results: Path) -> dict[str, dict]:
    request = {**options, "course_root": str(course), "paths": [str(p) for p in paths],
               "results": str(results), "workspace": str(results.parent)}  # fmt: skip
    budget = len(paths) * (options["limits"]["submission_seconds"] + options["limits"]["load_seconds"]) + 120
    try:
        subprocess.run([sys.executable, "-m", "grader.chunk"], input=json.dumps(request).encode(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=budget,
                       check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        pass  # what was finished is in the results file; the rest is reported as lost
    reported = {}
    if results.exists():
        for line in results.read_text().splitlines():
            data = json.loads(line)
            if "suite_error" in data:
                raise SuiteError(data["suite_error"])
            reported[data["submission"]] = data
    return reported


def _lost(path: str, options: dict) -> dict:
    why = "the grading process on the Dask worker died"
    return SubmissionResult.lost(path, options["assignment"], options["suite"], why).to_dict()


def chunk_options(request: dict) -> GradingOptions:
    """The options of a chunk, rebuilt from its JSON request on the Dask worker."""
    from grader.grading import hidden_paths
    from grader.sandbox import forkserver

    course = Course(Path(request["course_root"]))
    return GradingOptions(
        assignment=request["assignment"], course_root=str(course.root), suite=request["suite"],
        mode=request["mode"], limits=Limits(**request["limits"]), device=request["device"],
        hide=(*hidden_paths(course, request["paths"]), request["workspace"]), warm=forkserver.available(),
    )  # fmt: skip
