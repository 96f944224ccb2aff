"""What runs on a Dask worker: one task grades one chunk of submissions (``grade_chunk``).

The task writes the chunk's submissions and the course files the verdicts depend on
(suite and reference) into a private workspace on the node, runs an ordinary grading
process on them (``python -m grader.grading.dask_worker``) and hands back plain dictionaries:

    grade_chunk ─┬─ refuse the whole chunk? (other library versions than the client's,
                 │                            --device cuda on a node without a GPU)
                 ├─ workspace: <tmp>/dlgrade-dask/chunk-XXXX/, locked while in use
                 ├─ python -m grader.grading.dask_worker ──▶ one JSON line per finished submission
                 │      each line is published at once (a Dask event), so the client
                 │      records it and prints progress while the chunk goes on
                 └─ return every result (the published ones again: the client keeps the first)

A workspace holds the hidden tests and the reference, so none may outlive its task. A
task that ends in any way removes its own. A Dask worker killed mid-task cannot, so its
folder's lock (``flock``, released by the kernel when the process dies) tells the next
task on the node, or the restarted worker (``Reaper``), that the folder is abandoned.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

from grader.devices import resolve
from grader.errors import DlgradeError, SuiteError
from grader.grading.options import GradingOptions
from grader.results.gradebook import library_versions
from grader.results.records import SubmissionResult

WORKSPACES = "dlgrade-dask"  # inside the node's temporary folder
LOCK = ".lock"
YOUNG_SECONDS = 60  # a workspace this young without its lock is still being made
POLL_SECONDS = 0.2
COMPARED = ("dlgrade", "torch", "numpy")  # must match the client's exactly; Python: major.minor

_gpu_turn = itertools.count()  # which GPU the next chunk in this worker process takes


def grade_chunk(submissions: list[tuple[int, str, bytes]], files: dict[str, bytes], request: dict) -> dict:
    """A Dask task: grade these submissions here, in a fresh grading process.

    Returns ``{"on": {"device", "versions"}, "results": [(index, result dict), ...]}``:
    one result for each submission. A submission the grading process never reported (it
    died) comes back as an ``error`` to grade again, never as a silent gap.
    """
    options = GradingOptions.from_plain(request["options"])
    versions = worker_versions()
    on = {"device": options.device, "versions": versions}
    try:
        check_versions(request.get("versions"), versions)
        on["device"] = _device(options.device)
    except DlgradeError as exc:
        refusal = f"refused by {_worker_name()}: {exc}; grade this submission again"
        return {"on": on, "results": [(i, _error(name, options, refusal)) for i, name, _ in submissions]}
    publish = _publisher(request.get("topic"), on)
    with workspace() as root:
        local = _write_chunk(root, submissions, files)
        names = {str(path): index for index, path in local.items()}

        def heard(data: dict) -> None:
            publish(names[data["submission"]], _with_isolation_note(data))

        here = options.but(course_root=str(root / "course"), device=on["device"], devices=())
        reported = _run_chunk(list(local.values()), here, root / "results.jsonl", heard)
    results = [(i, reported.get(str(path)) or _lost(str(path), options)) for i, path in local.items()]
    return {"on": on, "results": [(i, _with_isolation_note(data)) for i, data in results]}


def worker_versions() -> dict:
    """This node's library versions, and which Dask worker it is, for the gradebook."""
    versions = {name: str(value) for name, value in library_versions().items()}  # torch's is a str subclass
    return {**versions, "host": platform.node(), "dask_worker": _worker_name()}


def check_versions(client: dict | None, here: dict) -> None:
    """Refuse to grade with other libraries than the client's: a different torch or
    dlgrade could change verdicts without changing the suite version."""
    if not client:
        return
    different = [
        f"{name} {here.get(name)} (the client has {client.get(name)})"
        for name in COMPARED
        if here.get(name) != client.get(name)
    ]
    if _minor(here.get("python")) != _minor(client.get("python")):
        different.append(f"Python {here.get('python')} (the client has {client.get('python')})")
    if different:
        raise DlgradeError("this node has " + ", ".join(different) + "; install the client's versions there")


def _minor(version: str | None) -> str:
    return ".".join(str(version).split(".")[:2])


def _device(spec: str) -> str:
    """The device this chunk grades on, chosen here, where the GPUs are (the client may
    have none). Several GPUs: each chunk of this worker process takes the next one."""
    devices = resolve(spec)
    return devices[next(_gpu_turn) % len(devices)]


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):  # called outside a Dask worker (tests, a plain call)
        return f"process {os.getpid()} on {platform.node()}"


def _publisher(topic: str | None, on: dict) -> Callable[[int, dict], None]:
    """Send each finished result to the client at once, as a Dask event on ``topic``."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        worker = None
    if topic is None or worker is None:
        return lambda index, data: None
    # as JSON text: Dask's events take only plain msgpack types (torch's version string is not one)
    return lambda index, data: worker.log_event(topic, json.dumps({"index": index, "result": data, "on": on}))


def _write_chunk(
    root: Path, submissions: list[tuple[int, str, bytes]], files: dict[str, bytes]
) -> dict[int, Path]:
    for relative, data in files.items():
        (root / "course" / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / "course" / relative).write_bytes(data)
    local = {}
    for index, name, data in submissions:
        path = root / "submissions" / str(index) / Path(name).name
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        local[index] = path
    return local


def _error(path: str, options: GradingOptions, message: str) -> dict:
    return SubmissionResult(
        submission=path, assignment=options.assignment, suite=options.suite, status="error", message=message
    ).to_dict()


def _lost(path: str, options: GradingOptions) -> dict:
    why = "the grading process on the Dask worker died"
    return SubmissionResult.lost(path, options.assignment, options.suite, why).to_dict()


def _with_isolation_note(data: dict) -> dict:
    """A Dask node without the full sandbox still grades, but every result says so."""
    from grader.sandbox.process import isolation_warning

    warning = isolation_warning()
    if warning is None:
        return data
    note = f"graded on a Dask worker without the full sandbox: {warning}"
    return {**data, "notes": [*data.get("notes", []), note]}


# ---------------------------------------------------------------- the grading process


def _run_chunk(
    paths: list[Path], options: GradingOptions, results: Path, heard: Callable[[dict], None]
) -> dict[str, dict]:
    """Run ``python -m grader.grading.dask_worker`` on ``paths``; each result it writes reaches ``heard``
    as soon as its line is complete. Returns every result by path."""
    request = {
        "options": options.to_plain(),
        "paths": [str(p) for p in paths],
        "results": str(results),
        "workspace": str(results.parent),
        "parent": os.getpid(),
    }
    limits = options.limits  # CPU seconds, each held on the clock wall_factor times longer
    per_submission = (limits.submission_seconds + limits.load_seconds) * limits.wall_factor
    budget = len(paths) * per_submission + 120
    reported: dict[str, dict] = {}
    lines = _Lines(results)

    def take_new() -> None:
        for data in lines.new():
            if "suite_error" in data:
                raise SuiteError(data["suite_error"])
            if data["submission"] not in reported:
                reported[data["submission"]] = data
                heard(data)

    process = subprocess.Popen(
        [sys.executable, "-m", "grader.grading.dask_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None  # stdin=PIPE (for mypy)
    try:
        process.stdin.write(json.dumps(request).encode())
        process.stdin.close()
        deadline = time.monotonic() + budget
        while process.poll() is None and time.monotonic() < deadline:
            take_new()
            time.sleep(POLL_SECONDS)
    finally:
        if process.poll() is None:  # past its budget, or this task is failing: what it finished is kept
            process.kill()
        process.wait()
    take_new()
    return reported


class _Lines:
    """The whole lines appended to a file since the last look (a line being written waits)."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0

    def new(self) -> Iterator[dict]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].splitlines():
            if line.strip():
                yield json.loads(line)


# ---------------------------------------------------------------- workspaces on the node


def workspaces() -> Path:
    """Where this node's chunk workspaces live: one folder, private to the grader's user
    (named by uid: a folder another user made first would lock this one out)."""
    base = Path(tempfile.gettempdir()) / f"{WORKSPACES}-{os.getuid() if hasattr(os, 'getuid') else 0}"
    base.mkdir(mode=0o700, exist_ok=True)
    return base


@contextmanager
def workspace() -> Iterator[Path]:
    """A private folder for one chunk, locked while the task runs, removed when it ends.

    Abandoned workspaces (their task's worker was killed) are removed first."""
    base = workspaces()
    reap(base)
    root = Path(tempfile.mkdtemp(prefix="chunk-", dir=base))
    lock = os.open(root / LOCK, os.O_CREAT | os.O_RDWR, 0o600)  # not inherited by the grading process
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
        os.close(lock)


def reap(base: Path) -> list[Path]:
    """Remove the workspaces whose task is gone (nobody holds their lock); returns them."""
    removed = []
    for folder in sorted(base.glob("chunk-*")):
        if _abandoned(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _abandoned(folder: Path) -> bool:
    try:
        fd = os.open(folder / LOCK, os.O_RDWR)
    except FileNotFoundError:  # being made right now, or its maker died before locking it
        try:
            return time.time() - folder.stat().st_mtime > YOUNG_SECONDS
        except FileNotFoundError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # its task is running
    finally:
        os.close(fd)
    return True


class Reaper(WorkerPlugin):
    """A Dask worker plugin: a worker that starts (a fresh one, or one the nanny restarted
    after a kill) removes the workspaces abandoned on its node."""

    name = "dlgrade-reaper"

    def setup(self, worker) -> None:
        reap(workspaces())
