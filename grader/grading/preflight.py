"""Preflight: no batch without a passing reference.

Before the first student of a batch, every grading process (each of ``--workers``, each
Dask chunk: they all run ``stream.grade_stream``) grades the assignment's reference, its
annotated source notebook (``source/aN/*.ipynb``), in exactly the sandbox, device and
limits the students get. Anything short of full marks means this machine would grade
correct work wrong (a Python the worker cannot read, a limit too small for this torch,
a device that does not work), so the batch stops before a single student result exists,
with the cause and the fix in one message (``PreflightFailed``).

``dlgrade doctor`` runs the same check for every assignment (``grading.grade_reference``)
and prints which walls of the sandbox this machine gives (``walls``).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from grader.course.layout import Course
from grader.errors import PreflightFailed
from grader.results.records import SubmissionResult
from grader.sandbox import forkserver, uids
from grader.sandbox.child import syscalls
from grader.sandbox.limits import Limits
from grader.sandbox.process import bwrap_path, isolation_warning, paths_in_tmp, readable_paths

MESSAGE_CHARS = 600


def reference_notebook(course: Course, assignment: str) -> Path | None:
    """The assignment's annotated source notebook, the reference graded before students;
    None where the course has none (a course made only of suites, a student bundle)."""
    folder = course.root / "source" / assignment
    notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    return notebooks[0] if notebooks else None


def full_marks(result: SubmissionResult) -> bool:
    passed = all(test.outcome == "passed" for test in result.tests)
    return result.status == "graded" and bool(result.tests) and passed


def check(result: SubmissionResult, *, device: str, limits: Limits) -> None:
    """Raise ``PreflightFailed`` unless the reference got full marks, saying why and what to do."""
    if full_marks(result):
        return
    score = f"{result.score:g}/{result.max_score:g}"
    first = _first_problem(result)
    cause, fix = diagnose(result, device=device, limits=limits)
    raise PreflightFailed(
        f"the reference {result.submission} gets {score} [{result.status}] here, not full marks, so "
        f"no student was graded. Cause: {cause}. Fix: {fix}. (First problem: {first})"
    )


def _first_problem(result: SubmissionResult) -> str:
    failing = [t for t in result.tests if t.outcome != "passed"]
    if result.status != "graded" or not failing:
        text = result.message or result.status
    else:
        text = f"{failing[0].name}: {failing[0].outcome}: {failing[0].message}"
    return " ".join(text.split())[:MESSAGE_CHARS]  # one line


def diagnose(result: SubmissionResult, *, device: str, limits: Limits) -> tuple[str, str]:
    """(cause, fix) for a reference that did not get full marks, from what its tests said."""
    text = "\n".join([result.message, *(t.message for t in result.tests if t.outcome != "passed")])
    if "failed to map segment" in text or "MemoryError" in text or "Cannot allocate memory" in text:
        return _memory_limit(limits)
    if "No module named" in text or "ModuleNotFoundError" in text or "ImportError" in text:
        return _unreadable_python()
    if device != "cpu" and ("CUDA" in text or "cuda" in text or "device" in text):
        return (
            f"the device {device} does not work in the worker",
            "check the driver (nvidia-smi), CUDA_VISIBLE_DEVICES and the torch build, or pass --device cpu",
        )
    outcomes = {t.outcome for t in result.tests if t.outcome != "passed"}
    if result.status == "timeout" or outcomes == {"timeout"}:
        return (
            "the reference ran out of time: this machine is too slow or too busy for the time limits "
            f"({limits.test_seconds:g} s a test, {limits.submission_seconds:g} s a submission)",
            "grade on a quieter machine or with fewer --workers, or raise --test-timeout",
        )
    if result.status in ("killed", "error") or "crashed" in outcomes:
        return (
            "the sandbox ends or refuses the reference's worker on this machine",
            "run `dlgrade doctor` for the sandbox's walls here, and see docs/security.md",
        )
    return (
        "the reference itself loses points: the suite, the reference or the source notebook is wrong",
        "run the suite's own tests (tests/suites/test_<assignment>_suite.py) and fix what they show",
    )


def _memory_limit(limits: Limits) -> tuple[str, str]:
    """The worker could not map a library or allocate: its address-space limit is too small."""
    import torch

    cuda_build = torch.version.cuda is not None
    why = " (this is a CUDA build of torch, which maps gigabytes as it imports)" if cuda_build else ""
    fix = "raise --memory-mb"
    if cuda_build:
        fix += (
            ", or install the CPU build (pip install torch --index-url https://download.pytorch.org/whl/cpu)"
        )
    return f"the worker's memory limit (--memory-mb {limits.memory_mb}) is too small{why}", fix


def _unreadable_python() -> tuple[str, str]:
    """Why the worker cannot import its own modules: a folder it cannot enter, or /tmp."""
    blocked = [(path, folder) for path in readable_paths() if (folder := blocking_folder(path))]
    if blocked and os.getuid() == 0:
        path, folder = blocked[0]
        mode = stat.filemode(os.stat(folder).st_mode)
        return (
            f"the worker, which drops to an unprivileged uid of its own ({uids.FIRST_UID} and up), "
            f"cannot read {path}: {folder} is {mode}, closed to other users",
            f"install Python where every user can read it (/usr/local, /opt), or open the folders on "
            f"the way (chmod o+x {folder})",
        )
    in_tmp = paths_in_tmp(readable_paths())
    if in_tmp and bwrap_path() is not None:
        return (
            f"the worker's private /tmp hides {in_tmp[0]}, which its Python needs",
            "put the virtual environment (and dlgrade) outside /tmp",
        )
    return (
        "the worker cannot import a module it needs (see the first problem)",
        f"check that {sys.executable} has dlgrade's dependencies installed (pip install -e .)",
    )


def blocking_folder(path: str) -> str | None:
    """The first folder on the way to ``path`` that a user other than its owner and group
    cannot enter (no ``o+x``); None when every one is open."""
    for folder in [*reversed(Path(path).parents), Path(path)]:
        try:
            mode = os.stat(folder).st_mode
        except OSError:
            return None
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return str(folder)
    return None


# ---------------------------------------------------------------- dlgrade doctor


def walls(limits: Limits = Limits()) -> list[tuple[str, str]]:
    """(wall, what this machine gives) for each wall of the sandbox, as ``doctor`` prints them."""
    bwrap = bwrap_path()
    root = os.getuid() == 0
    warm = forkserver.available()
    return [
        ("bubblewrap", bwrap or f"no: {isolation_warning()}"),
        (
            "workers",
            "warm: forked from one sandboxed server per grading process"
            if warm
            else "cold: a fresh interpreter per submission (warm workers need root and bubblewrap)",
        ),
        (
            "uid drop",
            "yes: each worker runs as a uid of its own"
            if root
            else f"no: workers run as this user (uid {os.getuid()})",
        ),
        (
            "namespaces",
            "pid, net, ipc and mount (a private /tmp, an allow-list view of the disk)"
            if bwrap
            else "none: the worker sees this machine's processes, network and files",
        ),
        (
            "seccomp",
            "yes: a syscall filter and an empty session keyring"
            if syscalls.available()
            else "no: libseccomp is not installed",
        ),
        (
            "limits",
            f"{limits.test_seconds:g} s a test, {limits.load_seconds:g} s to load, "
            f"{limits.submission_seconds:g} s a submission, {limits.memory_mb} MB memory, "
            f"{limits.max_processes} processes, {limits.max_file_mb} MB a file, "
            f"{limits.threads} torch thread(s)",
        ),
    ]
