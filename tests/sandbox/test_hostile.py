"""Hostile submissions, graded in one batch with honest ones that still get their right scores.

Each hostile notebook in ``tests/hostile/`` (made by ``make_notebooks.py``, which says
what each one does) is graded with the a1 hidden suite in ONE ``grade()`` call, next to
two honest submissions: the reference module (23/23) and a notebook with one bug. Every
test below reads one property off that batch:

    an endless loop ........ at top level: not run (full marks); in a class body: load timeout;
                             in ``sign``: the tests that call it time out, the rest pass
    os._exit(0) ............ at top level: not run (full marks); in ``sign``: those tests
                             crash, the worker restarts, later tests pass
    a 12 GB allocation ..... fails with the allocator's message; nothing else is lost
    200 MB on stdout ....... the stored output is capped; grading takes seconds
    200 children ........... none is alive once the submission is graded
    a forger ............... prints full marks, writes results files, patches helpers: 0 points,
                             and the results file the grader wrote is the one we read back
    a lying tensor ......... every comparison says yes in the worker: 0 points here
    a thief ................ reads and prints every secret it can find: none reaches any result
    a connector ............ scans every local port and Unix socket: nothing connects
    a killer ............... signals every pid it can name: nothing outside its worker dies
    a disk filler .......... /tmp stops it at 256 MB, RLIMIT_FSIZE at 64 MB, the rest is
                             read-only; nothing it leaves (files, SysV memory) outlives it
    deep recursion ......... SIGSEGV: a clean "crashed", the worker restarts
    huge outputs ........... messages, output and returned values are capped; printed fake
                             verdicts stay data
    a patcher / lying __eq__ every comparison and the worker's own replies say yes: 0 points

The batch is graded from a course laid out like a real one, in a folder outside /tmp (the
worker's /tmp is private anyway): suites, references, ``course.toml`` and the gradebook
carry a canary, the batch's submissions sit next to another student's notebook with a
canary, and another folder nobody named holds a third student's notebook, an old results
file and a listening Unix socket. A process running as ``nobody`` carries the canary in
its command line. No canary, and no path into that folder, may reach any result.

A second, smaller batch runs every top-level statement (``mode="all"``): there the
top-level loop times out, the top-level exit kills loading and the forger's top-level
code changes nothing.

Hostile code must never run outside the real sandbox (the forger would write results
files into every folder it can), so the module is skipped without bubblewrap.
"""

from __future__ import annotations

import ast
import ctypes
import importlib.util
import json
import os
import re
import secrets
import select
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from support import COURSE, ROOT

from grader import console, safe_text
from grader.cli import main
from grader.console import result_line
from grader.course.layout import Course
from grader.grading.grade import grade
from grader.grading.plugin import MESSAGE_CHARS
from grader.intake.notebook import read_cells
from grader.results.gradebook import Gradebook
from grader.results.records import SCHEMA_PATH, ResultsFile, SubmissionResult
from grader.sandbox import forkserver
from grader.sandbox.limits import Limits
from grader.sandbox.process import _environment, isolation_warning
from grader.sandbox.session import Session

HOSTILE = ROOT / "tests" / "hostile"
REFERENCE = COURSE / "reference" / "a1" / "perceptron.py"

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(
        isolation_warning() is not None,
        reason=f"hostile code runs only in the real sandbox: {isolation_warning()}",
    ),
]

LIMITS = Limits(test_seconds=5, load_seconds=10)


def on_the_clock(seconds: float) -> float:
    """The most a time limit of ``seconds`` takes on the clock: limits count the worker's CPU
    time, and a loop on a busy machine gets only some of a core's time slices; the clock
    stops it at ``wall_factor`` times the limit (on a quiet machine: about the limit)."""
    return seconds * LIMITS.wall_factor


FULL = 23.0


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", HOSTILE / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()
FORK_MARKER = GENERATOR.FORK_MARKER  # in the command line of every child fork_200 starts
FORGED_MARKER = GENERATOR.FORGED_MARKER  # in every results file the forger writes
FILLER_MARKER = GENERATOR.FILLER_MARKER  # in the name of every file disk_filler writes
IPC_KEY = GENERATOR.IPC_KEY  # the SysV key of the segment disk_filler leaves behind

# The batch, in grading order: the disk filler leaves its litter before the thief looks for
# it, and the honest reference goes last, graded after every hostile submission did its worst.
NOTEBOOKS = [
    "buggy_sign",
    "loop_top_level",
    "loop_class_body",
    "loop_in_function",
    "exit_top_level",
    "exit_in_function",
    "alloc_12gb",
    "flood_stdout",
    "huge_outputs",
    "fork_200",
    "killer",
    "disk_filler",
    "thief",
    "connector",
    "deep_recursion",
    "forger",
    "patcher",
    "liar_tensor",
    "lying_eq",
    "surrogate_message",
    "forged_load_reply",
    "terminal_escapes",
    "ansi_nbformat",
    "keyring_thief",
]
# Submissions whose name or kind is the attack, made by the batch (git cannot hold a FIFO, and
# a checkout on another system could not hold these names): the honest notebook under a name
# that rewrites a terminal line ("/" cannot be in a name: a division slash looks the same) and
# under a name that is not UTF-8 (an archive made on a Latin-1 system); a link to the course's
# solution; a FIFO, which a reader waits on forever.
ANSI_NAME = "\x1b[2K\rmallory: 23\u221523 [graded]\x1b]0;all graded\x07\x1b]52;c;cm0gLXJmIH4=\x07.ipynb"
LATIN1_NAME = os.fsdecode(b"m\xfcller.ipynb")
LINK, FIFO = "linked_solution.ipynb", "fifo.ipynb"
SOLUTION = COURSE / "source" / "a1" / "a1.ipynb"
# Every control character, lone surrogate and bidirectional override: none may reach a result
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
ALL_MODE_NOTEBOOKS = ["loop_top_level", "exit_top_level", "forger"]

# name -> (status, score): what each submission must end with, exactly
EXPECTED = {
    "buggy_sign": ("graded", 18.0),  # sign tests (2 + 2) and the boundary prediction (1) lost
    "loop_top_level": ("graded", FULL),
    "loop_class_body": ("timeout", 0.0),
    "loop_in_function": ("graded", 17.0),  # sign (4) and predict (2), which calls sign, lost
    "exit_top_level": ("graded", FULL),
    "exit_in_function": ("graded", 17.0),  # the same six points, as crashes
    "alloc_12gb": ("graded", 18.0),  # the sigmoid tests (1 + 2 + 2) lost
    "flood_stdout": ("graded", FULL),
    "fork_200": ("graded", FULL),
    "huge_outputs": ("graded", 4.0),  # only weighted_sum (4) is right
    "killer": ("graded", FULL),
    "disk_filler": ("graded", FULL),
    "thief": ("graded", FULL),
    "connector": ("graded", FULL),
    "deep_recursion": ("graded", 17.0),  # sign (4) and predict (2), which calls it, crash
    "forger": ("graded", 0.0),
    "patcher": ("graded", 0.0),
    "liar_tensor": ("graded", 0.0),
    "lying_eq": ("graded", 0.0),
    "surrogate_message": ("graded", 17.0),  # sign (4) and predict (2), which calls it, raise
    "forged_load_reply": ("killed", 0.0),
    "keyring_thief": ("graded", FULL),
    "terminal_escapes": ("graded", 17.0),  # the same six points
    "ansi_nbformat": ("invalid_notebook", 0.0),
    Path(ANSI_NAME).stem: ("graded", FULL),
    Path(LATIN1_NAME).stem: ("graded", FULL),
    Path(LINK).stem: ("refused", 0.0),
    Path(FIFO).stem: ("refused", 0.0),
    "perceptron": ("graded", FULL),
}
MUST_SCORE_ZERO = ("forger", "patcher", "liar_tensor", "lying_eq")
# Folders on this machine the forger aims at (besides the results folder of the batch)
FORGER_TARGETS = (
    ROOT,
    ROOT / "tests",
    HOSTILE,
    Path.cwd(),
    Path("/tmp"),
    Path("/var/tmp"),
    Path("/dev/shm"),
    Path("/"),
    Path.home(),
)


# --------------------------------------------------------------------------- helpers


def name_of(result: SubmissionResult) -> str:
    return Path(result.submission).stem


def outcomes(result: SubmissionResult) -> dict[str, str]:
    return {test.name: test.outcome for test in result.tests}


def outcomes_of(result: SubmissionResult, *prefixes: str) -> dict[str, str]:
    return {name: outcome for name, outcome in outcomes(result).items() if name.startswith(prefixes)}


def outcomes_besides(result: SubmissionResult, *prefixes: str) -> dict[str, str]:
    return {name: outcome for name, outcome in outcomes(result).items() if not name.startswith(prefixes)}


def marker_processes() -> list[tuple[int, str]]:
    """Processes anywhere on this machine whose command line carries the fork_200 marker."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if FORK_MARKER in cmdline:
            found.append((int(entry), cmdline.strip()))
    return found


@contextmanager
def children_seen_at_close():
    """Count marker processes just before each submission's worker is closed, when the
    children it started are certainly alive (they sleep 1000 s): a deterministic look,
    where polling could miss the short window between the spawn and the kill."""
    seen: list[int] = []
    close = Session.close

    def counting_close(session: Session) -> None:
        seen.append(len(marker_processes()))
        close(session)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Session, "close", counting_close)
        yield seen


def forged_files(*folders: Path, deep: tuple[Path, ...] = ()) -> list[Path]:
    """JSON files holding the forger's marker: directly in ``folders``, anywhere below the
    ``deep`` ones, and any file in a worker's home that was left behind in /tmp."""
    candidates = [path for folder in folders if folder.is_dir() for path in folder.glob("*.json")]
    candidates += [path for folder in deep for path in folder.rglob("*.json")]
    for home in Path("/tmp").glob("dlgrade-worker-*"):
        try:
            candidates += home.rglob("*")
        except OSError:
            pass  # a worker home that another grading run is removing right now
    forged = []
    for path in candidates:
        try:
            if path.is_file() and FORGED_MARKER in path.read_text(errors="replace"):
                forged.append(path)
        except OSError:
            pass
    return forged


def truncation(output: str) -> tuple[int, int]:
    """(bytes written, bytes kept) from the grader's truncation line: the last one, since
    the grader appends it after what the student printed (which may hold fake ones)."""
    found = re.findall(r"\[output truncated: (\d+) bytes written, (\d+) kept\]", output)
    assert found, f"no truncation note in {output[-300:]!r}"
    return int(found[-1][0]), int(found[-1][1])


def everything_shown(result: SubmissionResult) -> str:
    """All the text a result carries that came from, or is about, the student's code."""
    return "\n".join([result.output, result.message, *result.notes, *(t.message for t in result.tests)])


def lines_with(prefix: str, output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(prefix)]


def sysv_segment_keys() -> set[int]:
    """Keys of the SysV shared-memory segments of this machine's IPC namespace."""
    rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {int(row.split()[0]) for row in rows if row.strip()}


def litter(*folders: Path) -> list[Path]:
    """Files the disk filler left in ``folders`` (not below them: / is one of them)."""
    return [path for folder in folders if folder.is_dir() for path in folder.glob(f"{FILLER_MARKER}*")]


# --------------------------------------------------------------------------- secrets to steal


def _outside_tmp() -> Path:
    """A folder for the secrets outside /tmp, which every worker replaces with its own: only
    there do the walls that hide the course and the rest of the disk have anything to hide."""
    for folder in (Path("/var/tmp"), Path.home()):
        if folder.is_dir() and os.access(folder, os.W_OK):
            return folder
    return Path(tempfile.gettempdir())


@dataclass
class Secrets:
    """A course, a submissions folder and another folder, each holding a canary; listeners
    that record every connection; a process that runs as nobody with the canary in its
    command line."""

    base: Path
    canary: str
    course: Course
    submissions: Path
    connections: list = field(default_factory=list)
    port: int = 0
    victim: subprocess.Popen | None = None
    key: int = 0  # a key in this process's session keyring, with the canary as its payload
    _sockets: list = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def listen(self) -> None:
        tcp = socket.create_server(("127.0.0.1", 0))
        self.port = tcp.getsockname()[1]
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind(str(self.base / "elsewhere" / "grader.sock"))
        os.chmod(self.base / "elsewhere" / "grader.sock", 0o777)
        abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        abstract.bind(f"\0dlgrade-hostile-{os.getpid()}")
        for sock in (tcp, unix, abstract):
            sock.listen()
        self._sockets = [tcp, unix, abstract]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select(self._sockets, [], [], 0.1)
            for sock in ready:
                connection, _ = sock.accept()
                self.connections.append(sock.getsockname())
                connection.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for sock in self._sockets:
            sock.close()
        if self.victim is not None:
            self.victim.kill()
            self.victim.wait()
        if self.key > 0:
            _keyctl("keyctl", 21, self.key)  # KEYCTL_INVALIDATE
        shutil.rmtree(self.base, ignore_errors=True)


def _keyctl(name: str, *args) -> int:
    """A key system call from this (trusted) process; -1 where the kernel keeps no keys."""
    try:
        import pyseccomp
    except (ImportError, RuntimeError):
        return -1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    converted = [a if isinstance(a, bytes) else ctypes.c_long(a) for a in args]
    return libc.syscall(ctypes.c_long(pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)), *converted)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def plant_secrets() -> Secrets:
    """Copy the a1 suite and the references into a fresh course that carries the canary
    everywhere a student would look. Everything is readable by every user (umask 022), so
    that only the sandbox stands between a worker and the canary."""
    old_umask = os.umask(0o022)
    try:
        base = Path(tempfile.mkdtemp(prefix="dlgrade-hostile-", dir=_outside_tmp()))
        base.chmod(0o755)
        canary = f"dlgrade-canary-{secrets.token_hex(8)}"
        course = base / "course"
        shutil.copytree(
            COURSE / "suites" / "a1", course / "suites" / "a1", ignore=shutil.ignore_patterns("__pycache__")
        )
        shutil.copytree(
            COURSE / "reference", course / "reference", ignore=shutil.ignore_patterns("__pycache__")
        )
        for source in list(course.rglob("*.py")):
            source.write_text(f"# {canary}\n" + source.read_text())  # where a first look sees it
        _write(course / "course.toml", f'[course]\nname = "{canary}"\n')
        with sqlite3.connect(course / "gradebook.sqlite") as db:
            db.execute("create table attempts (student text, feedback text)")
            db.execute("insert into attempts values ('zz_other_student', ?)", (canary,))
        db.close()
        (course / "gradebook.sqlite").chmod(0o644)
        submissions = base / "submissions"
        submissions.mkdir()
        for name in NOTEBOOKS:
            shutil.copy(HOSTILE / f"{name}.ipynb", submissions)
        shutil.copy(REFERENCE, submissions)
        other = read_cells(HOSTILE / "buggy_sign.ipynb")
        notebook = {
            "cells": [
                {
                    "cell_type": "code",
                    "source": c + f"\n# {canary}",
                    "metadata": {},
                    "outputs": [],
                    "execution_count": None,
                }
                for c in other
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        _write(submissions / "zz_other_student.ipynb", json.dumps(notebook))
        _write(base / "elsewhere" / "carol" / "a1.ipynb", json.dumps(notebook))
        _write(base / "elsewhere" / "results.json", json.dumps({"results": [{"output": canary}]}))
    finally:
        os.umask(old_umask)
    found = Secrets(base=base, canary=canary, course=Course(course), submissions=submissions)
    # where an instructor's login keeps a token (keyctl add user ... @s): every worker starts from here
    found.key = _keyctl("add_key", b"user", b"dlgrade-hostile-login-token", canary.encode(), len(canary), -3)
    found.listen()
    found.victim = subprocess.Popen(
        [f"{canary}-victim", "600"],
        executable="/bin/sleep",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **_as_nobody(),
    )
    return found


def _as_nobody() -> dict:
    """Run as nobody (65534), a user workers once shared, where this process may choose."""
    uid = 65534
    return {"user": uid, "group": uid, "extra_groups": []} if os.getuid() == 0 else {}


def distinctive_lines_of_this_courses_secrets() -> list[str]:
    """The first line of every hidden suite and reference in this checkout: another course
    on the same machine, which no worker may read either."""
    lines = []
    for path in [*(COURSE / "suites").rglob("*.py"), *(COURSE / "reference").rglob("*.py")]:
        first = path.read_text().strip().splitlines()[:1]
        if first and len(first[0]) >= 30:
            lines.append(first[0])
    return lines


@contextmanager
def fork_servers_started():
    """Count the fork servers a batch starts: one, unless something hostile killed it."""
    started: list[int] = []
    init = forkserver.ForkServer.__init__

    def counting_init(self, *args, **kwargs):
        started.append(1)
        init(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(forkserver.ForkServer, "__init__", counting_init)
        yield started


@contextmanager
def imports_restored():
    """The batch's course goes on sys.path and may be imported as ``reference``; put both
    back, so that later tests import this checkout's references, not a deleted copy."""
    path, modules = list(sys.path), set(sys.modules)
    try:
        yield
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            if name == "reference" or name.startswith(("reference.", "suites")):
                del sys.modules[name]


# --------------------------------------------------------------------------- the batches


@dataclass
class Batch:
    results: dict[str, SubmissionResult]
    seconds: float
    results_path: Path | None = None
    forker_left_alive: list = field(default_factory=list)  # right after fork_200 was graded
    left_alive: list = field(default_factory=list)  # after the whole batch
    most_children_seen: int = 0  # marker processes alive just before a worker closed
    forged_folders: tuple[Path, ...] = ()
    secrets: Secrets | None = None
    fork_servers: int = 0  # fork servers started for the batch (0 with cold workers)
    segments_after: set = field(default_factory=set)  # SysV keys on this machine afterwards
    stored: dict = field(default_factory=dict)  # student -> result, as the gradebook gives it back
    lines: list = field(default_factory=list)  # what the CLI prints for each result


@pytest.fixture(scope="module")
def planted() -> Secrets:
    found = plant_secrets()
    yield found
    found.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, planted: Secrets) -> Batch:
    out = tmp_path_factory.mktemp("hostile-results")
    results_file = ResultsFile(out / "results.json", "a1")
    paths = [str(planted.submissions / f"{name}.ipynb") for name in NOTEBOOKS]
    for name in (ANSI_NAME, LATIN1_NAME):
        shutil.copy(HOSTILE / "honest.ipynb", planted.submissions / name)
    (planted.submissions / LINK).symlink_to(SOLUTION)
    os.mkfifo(planted.submissions / FIFO)
    made = [planted.submissions / name for name in (ANSI_NAME, LATIN1_NAME, LINK, FIFO)]
    paths += [str(path) for path in made]
    paths += [str(planted.submissions / REFERENCE.name)]
    gradebook = Gradebook(out / "gradebook.sqlite")
    lines: list[str] = []
    forker_left_alive: list = []

    def on_result(result: SubmissionResult) -> None:
        results_file.add(result)  # every sink takes every result: a results file, the gradebook,
        gradebook.record(result, student=name_of(result), suite_version="hostile")
        lines.append(console.graded_line(name_of(result), result))  # and the lines the CLI prints
        if name_of(result) == "fork_200":
            forker_left_alive.extend(marker_processes())

    assert not marker_processes(), "marker processes from an earlier run are still alive"
    assert IPC_KEY not in sysv_segment_keys(), f"an earlier run left a SysV segment: ipcrm -M {IPC_KEY:#x}"
    started = time.monotonic()
    try:
        with children_seen_at_close() as seen, fork_servers_started() as servers, imports_restored():
            results = grade(paths, assignment="a1", course=planted.course, limits=LIMITS, on_result=on_result)
    finally:  # gone once graded: the thief's own test reads (and prints) every file there
        for path in made:
            path.unlink()
    seconds = time.monotonic() - started
    results_file.write()  # the document, once, as at the end of `dlgrade grade --json`
    assert [r.submission for r in results] == paths
    with gradebook:
        stored = {attempt.student: attempt.result for attempt in gradebook.attempts("a1")}
    return Batch(
        stored=stored,
        lines=lines,
        results={name_of(r): r for r in results},
        seconds=seconds,
        results_path=results_file.path,
        forker_left_alive=forker_left_alive,
        left_alive=marker_processes(),
        most_children_seen=max(seen, default=0),
        forged_folders=(out, *FORGER_TARGETS),
        secrets=planted,
        fork_servers=len(servers),
        segments_after=sysv_segment_keys(),
    )


@pytest.fixture(scope="module")
def all_mode() -> Batch:
    paths = [str(HOSTILE / f"{name}.ipynb") for name in ALL_MODE_NOTEBOOKS] + [str(REFERENCE)]
    started = time.monotonic()
    results = grade(paths, assignment="a1", course=Course(COURSE), mode="all", limits=LIMITS)
    return Batch(results={name_of(r): r for r in results}, seconds=time.monotonic() - started)


# --------------------------------------------------------------------------- honest submissions


def test_reference_gets_full_marks_after_every_hostile_submission(batch):
    reference = batch.results["perceptron"]
    assert (reference.status, reference.score, reference.max_score) == ("graded", FULL, FULL)
    assert set(outcomes(reference).values()) == {"passed"}


def test_notebook_with_one_bug_loses_exactly_the_tests_that_catch_it(batch):
    buggy = batch.results["buggy_sign"]
    assert buggy.status == "graded"
    assert buggy.score == 18.0
    failed = {name for name, outcome in outcomes(buggy).items() if outcome != "passed"}
    assert failed == {
        "test_sign_with_exact_zeros[torch.float32]",
        "test_sign_with_exact_zeros[torch.float64]",
        "test_predict_batch_with_a_point_on_the_boundary",
    }
    assert set(outcomes_of(buggy, "test_sign").values()) == {"failed"}


def test_every_submission_ends_with_its_expected_status_and_score(batch):
    got = {name: (r.status, r.score) for name, r in batch.results.items()}
    assert got == EXPECTED


# --------------------------------------------------------------------------- endless loops


def test_top_level_loop_is_not_run_when_grading_definitions(batch):
    result = batch.results["loop_top_level"]
    assert (result.status, result.score) == ("graded", FULL)
    assert any("not definitions were not run" in note for note in result.notes)


def test_loop_in_a_class_body_runs_at_load_and_times_out(batch):
    result = batch.results["loop_class_body"]
    assert result.status == "timeout"
    assert f"longer than {LIMITS.load_seconds:g} s" in result.message
    assert result.score == 0.0 and set(outcomes(result).values()) == {"skipped"}
    assert result.seconds < on_the_clock(LIMITS.load_seconds) + 15


def test_loop_in_a_graded_function_times_out_only_the_tests_that_call_it(batch):
    result = batch.results["loop_in_function"]
    assert result.status == "graded"
    calling_sign = outcomes_of(result, "test_sign", "test_predict")
    assert len(calling_sign) == 4 and set(calling_sign.values()) == {"timeout"}
    assert set(outcomes_besides(result, "test_sign", "test_predict").values()) == {"passed"}
    assert result.score == 17.0
    assert result.seconds < 4 * on_the_clock(LIMITS.test_seconds) + 15  # four deadlines and restarts, no more


# --------------------------------------------------------------------------- os._exit


def test_top_level_exit_is_not_run_when_grading_definitions(batch):
    result = batch.results["exit_top_level"]
    assert (result.status, result.score) == ("graded", FULL)


def test_exit_in_a_graded_function_crashes_its_tests_and_the_worker_restarts(batch):
    result = batch.results["exit_in_function"]
    assert result.status == "graded"
    calling_sign = outcomes_of(result, "test_sign", "test_predict")
    assert len(calling_sign) == 4 and set(calling_sign.values()) == {"crashed"}
    crash = next(t for t in result.tests if t.outcome == "crashed")
    assert "ended the worker" in crash.message and "exited with code 0" in crash.message
    # sigmoid runs between the sign and predict crashes, fit after them: all on fresh workers
    assert set(outcomes_besides(result, "test_sign", "test_predict").values()) == {"passed"}
    assert result.score == 17.0


# --------------------------------------------------------------------------- memory and output


def test_12gb_allocation_fails_with_a_memory_message_and_costs_nothing_else(batch):
    result = batch.results["alloc_12gb"]
    assert result.status == "graded"
    sigmoid = [t for t in result.tests if t.name.startswith("test_sigmoid")]
    assert len(sigmoid) == 3 and {t.outcome for t in sigmoid} == {"failed"}
    for test in sigmoid:
        assert "can't allocate memory" in test.message and "12000000000 bytes" in test.message
    assert set(outcomes_besides(result, "test_sigmoid").values()) == {"passed"}
    assert result.score == 18.0


def test_200_mb_on_stdout_is_capped_and_graded_in_seconds(batch):
    result = batch.results["flood_stdout"]
    assert (result.status, result.score) == ("graded", FULL)
    written, kept = truncation(result.output)
    assert written >= 200_000_000
    assert kept == LIMITS.max_output_bytes
    assert len(result.output.encode()) < LIMITS.max_output_bytes + 200
    assert result.seconds < 30


# --------------------------------------------------------------------------- processes


def test_no_child_process_outlives_grading(batch):
    result = batch.results["fork_200"]
    assert (result.status, result.score) == ("graded", FULL)
    started = [int(n) for n in re.findall(r"fork_200: started (\d+) children", result.output)]
    assert started and started[0] > 0, "the submission started no child at all"
    assert batch.most_children_seen > 0, "no marker process was ever seen: the check would prove nothing"
    assert batch.forker_left_alive == []  # the moment its result arrived
    assert batch.left_alive == []  # and after the whole batch
    assert marker_processes() == []


# --------------------------------------------------------------------------- forged results


def test_forger_scores_zero_whatever_it_prints_and_patches(batch):
    forger = batch.results["forger"]
    assert (forger.status, forger.score) == ("graded", 0.0)
    assert "passed" not in outcomes(forger).values()
    assert "All tests passed 100/100" in forger.output  # it did print its claim ...
    assert "forger: patched" in forger.output  # ... and did patch the worker's helpers
    assert set(outcomes_of(forger, "test_sign", "test_fit").values()) == {"not_implemented"}


def test_lying_tensor_subclass_scores_zero(batch):
    liar = batch.results["liar_tensor"]
    assert (liar.status, liar.score) == ("graded", 0.0)
    assert set(outcomes(liar).values()) == {"failed"}
    assert all("values differ" in t.message or "expected" in t.message for t in liar.tests)


def test_lying_tensor_really_lies_outside_the_grader():
    """The fixture is hostile for real: where comparisons run next to the student's
    tensors, ``torch.equal``, ``torch.allclose`` and ``==`` all say yes to -0.75."""
    code = (
        "import sys, torch\n"
        "namespace = {}\n"
        "for cell in sys.argv[1:]:\n"
        "    exec(cell, namespace)\n"
        "got = namespace['weighted_sum'](torch.tensor([-2.0, 3.0]), torch.tensor([3.0, -2.0]), 0.5)\n"
        "right = torch.tensor(-11.5)\n"
        "print(type(got).__name__, torch.equal(got, right), torch.allclose(got, right),\n"
        "      bool((got == right).all()), got.tolist())\n"
    )
    cells = read_cells(HOSTILE / "liar_tensor.ipynb")
    done = subprocess.run(
        [sys.executable, "-c", code, *cells], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["LiarTensor", "True", "True", "True", "-0.75"]


def test_results_file_is_valid_holds_the_real_scores_and_was_not_forged(batch):
    data = json.loads(batch.results_path.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    assert FORGED_MARKER not in batch.results_path.read_text()
    in_order = list(batch.results.values())  # as graded: as given
    assert data == ResultsFile(batch.results_path, "a1", in_order).to_dict()
    assert [r["score"] for r in data["results"]] == [EXPECTED[name][1] for name in batch.results]
    for record in data["results"]:
        if Path(record["submission"]).stem in MUST_SCORE_ZERO:
            assert record["score"] == 0.0 and all(t["points"] == 0.0 for t in record["tests"])


def test_no_forged_results_file_reached_this_machine(batch):
    assert forged_files(*batch.forged_folders, deep=(batch.secrets.base,)) == []


# --------------------------------------------------------------------------- reading secrets


def test_no_secret_reaches_any_result(batch):
    """The course's suites, references, course file and gradebook, the other students' work
    beside and away from the batch, an old results file and a process's command line all
    carry the canary: no result shows it, or any path into the folder that holds them."""
    secrets_here = batch.secrets
    this_course = distinctive_lines_of_this_courses_secrets()
    assert this_course, "no line to look for: the check would prove nothing"
    for name, result in batch.results.items():
        shown = everything_shown(result)
        assert secrets_here.canary not in shown, name
        assert secrets_here.base.name not in shown, name
        leaked = [line for line in this_course if line in result.output]
        assert leaked == [], f"{name} printed lines of this checkout's hidden suites or references"


def test_the_keyring_thief_reads_nothing_and_leaves_nothing(batch):
    """The attack of issue 15: a class body reads the session keyring through syscall(keyctl)
    and raises what it found into the notes. The canary is a key's payload there
    (``test_no_secret_reaches_any_result`` looks for it in every result)."""
    assert batch.secrets.key > 0, "no key was planted: the check would prove nothing"
    thief = batch.results["keyring_thief"]
    assert (thief.status, thief.score) == ("graded", FULL)
    said = lines_with("keyring_thief: session keyring:", thief.output)
    assert len(said) == 1 and "keyring: ['EPERM']" in said[0] and "left a key: EPERM" in said[0]
    assert "dlgrade-hostile-login-token" not in said[0] or os.getuid() != 0  # not even its name
    assert any("keyring_thief found ['EPERM']" in note for note in thief.notes)


def test_the_thief_looked_everywhere_and_found_nothing(batch):
    thief = batch.results["thief"]
    assert (thief.status, thief.score) == ("graded", FULL)
    summary = lines_with("thief: read", thief.output)
    assert len(summary) == 1, "the thief did not finish its search"
    assert "[output truncated" not in thief.output  # nothing it printed was dropped unseen
    assert "leftover shared memory: none" in summary[0]  # the disk filler's segment died with it
    for secret in ("/etc/shadow", "/root/.ssh"):
        assert not any(line.startswith(f"thief: {secret}") for line in thief.output.splitlines())
    # /proc/1 is the worker itself (a PID namespace of its own). A grader that is not root
    # lets it read its own environment, which is the sandbox's, never the grader's
    sandbox = set(_environment("/tmp")) | {"PWD"}
    for line in thief.output.splitlines():
        if line.startswith("thief: /proc/1/environ: "):
            found = ast.literal_eval(line.split(": ", 2)[2])
            assert {item.split(b"=")[0].decode() for item in found.split(b"\0") if item} <= sandbox


def test_the_thief_prints_what_it_finds_when_nothing_hides_it(planted):
    """The fixture is hostile for real: outside a sandbox, the thief's search of the
    secrets' folder prints the canary from every kind of secret planted there."""
    tools = read_cells(planted.submissions / "thief.ipynb")[1]
    code = (
        "import sys\n"
        "namespace = {}\n"
        "exec(sys.argv[1], namespace)\n"
        "namespace['_places'] = lambda: [sys.argv[2]]  # the search, aimed at the secrets only:\n"
        "namespace['_processes'] = lambda: []  # no other process's command line or environment,\n"
        "namespace['FIXED'] = ()  # and none of this machine's own secrets\n"
        "namespace['_steal']()\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code, tools, str(planted.base)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd="/",
    )
    found = {line.split(":")[1].strip() for line in done.stdout.splitlines() if planted.canary in line}
    for secret in (
        "course/course.toml",
        "course/suites/a1/test_a1.py",
        "course/reference/a1/perceptron.py",
        "submissions/zz_other_student.ipynb",
        "elsewhere/carol/a1.ipynb",
        "elsewhere/results.json",
    ):
        assert str(planted.base / secret) in found, f"the thief missed {secret}"


# --------------------------------------------------------------------------- network


def test_no_connection_leaves_the_sandbox(batch):
    connector = batch.results["connector"]
    assert (connector.status, connector.score) == ("graded", FULL)
    report = lines_with("connector:", connector.output)
    assert len(report) == 1 and report[0].startswith("connector: 0 connections")
    tried = re.search(r"tried (\d+) of (\d+) ports", report[0])
    assert tried and tried[1] == tried[2], "the scan did not cover every port: it would prove nothing"
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    assert low <= batch.secrets.port <= high  # the listener sits where the scan looked
    assert re.search(r"Network is unreachable|Connection refused", report[0])  # the student sees why
    assert batch.secrets.connections == []  # nothing reached the TCP, Unix or abstract listener


# --------------------------------------------------------------------------- signals


def test_signals_reach_nothing_outside_the_worker(batch):
    killer = batch.results["killer"]
    assert (killer.status, killer.score) == ("graded", FULL)
    report = lines_with("killer:", killer.output)
    assert len(report) == 1 and "SIGKILL reached 0 other processes" in report[0]
    assert batch.secrets.victim.poll() is None  # the process running as nobody lives on
    if forkserver.available():
        assert batch.fork_servers == 1  # and so did the batch's fork server


# --------------------------------------------------------------------------- the disk


def filler_report(output: str) -> dict[str, dict]:
    """{folder: {"big": bytes, "big_stop": why, "many": bytes, "many_stop": why}}."""
    report = {}
    pattern = (
        r"filler: (\S+) one file: (\d+) bytes, stopped by (.*?) ; many files: (\d+) bytes, "
        r"stopped by (.*)"
    )
    for line in lines_with("filler: /", output):
        match = re.match(pattern, line)
        assert match, line
        folder, big, big_stop, many, many_stop = match.groups()
        report[folder] = {"big": int(big), "big_stop": big_stop, "many": int(many), "many_stop": many_stop}
    return report


def test_what_the_disk_filler_writes_is_bounded_and_dies_with_it(batch):
    filler = batch.results["disk_filler"]
    assert (filler.status, filler.score) == ("graded", FULL)
    report = filler_report(filler.output)
    assert set(report) >= {"/tmp", "/var/tmp", "/dev/shm", "/"}
    tmp = report.pop("/tmp")
    assert tmp["big"] == LIMITS.max_file_mb << 20 and tmp["big_stop"] == "File too large"
    assert tmp["many_stop"] == "No space left on device"
    assert tmp["big"] + tmp["many"] <= 256 << 20  # a private tmpfs of 256 MB
    for folder, wrote in report.items():  # everything else is read-only or not there
        assert wrote["big"] == wrote["many"] == 0, folder
    assert "filler: shared memory: segment" in filler.output  # it did leave one behind ...
    assert IPC_KEY not in batch.segments_after  # ... which did not outlive its worker
    assert litter(Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/"), batch.secrets.base) == []


# --------------------------------------------------------------------------- recursion and output


def test_deep_recursion_crashes_cleanly_and_the_worker_restarts(batch):
    result = batch.results["deep_recursion"]
    crashed = outcomes_of(result, "test_sign", "test_predict")
    assert len(crashed) == 4 and set(crashed.values()) == {"crashed"}
    assert all("SIGSEGV" in t.message for t in result.tests if t.outcome == "crashed")
    assert set(outcomes_besides(result, "test_sign", "test_predict").values()) == {"passed"}


def test_huge_messages_and_returns_are_capped_and_fake_verdicts_stay_data(batch):
    result = batch.results["huge_outputs"]
    assert (result.status, result.score) == ("graded", 4.0)
    sign = [t for t in result.tests if t.name.startswith("test_sign")]
    assert {t.outcome for t in sign} == {"failed"}
    assert all(len(t.message) <= MESSAGE_CHARS for t in result.tests)
    assert set(outcomes_of(result, "test_sigmoid").values()) == {"crashed"}
    assert all("RecursionError" in t.message for t in result.tests if t.name.startswith("test_predict"))
    # the 16 MB tensor: the worker refuses to send a reply over the cap (wire.MAX_REPLY_BYTES)
    assert all("exceeds the limit" in t.message for t in result.tests if t.name.startswith("test_fit"))
    # what it printed is there, as text: it changes neither the score nor the batch's line
    assert "Score: 23/23" in result.output and "\\x1b[2J" in result.output  # visible, inert
    assert result_line(result) == f"{result.submission}: 4/23 [graded]"
    written, kept = truncation(result.output)
    assert written > kept == LIMITS.max_output_bytes


def test_output_is_capped_per_submission_whatever_the_restarts(batch):
    result = batch.results["huge_outputs"]
    assert len(result.output.encode()) <= LIMITS.max_output_bytes + 200


# --------------------------------------------------------------------------- patching and lying


def test_patching_every_comparison_and_the_workers_replies_wins_nothing(batch):
    patcher = batch.results["patcher"]
    assert (patcher.status, patcher.score) == ("graded", 0.0)
    assert "passed" not in outcomes(patcher).values()
    report = lines_with("patcher: patched", patcher.output)
    assert len(report) == 1
    for patched in ("builtins.all", "torch.allclose", "torch.Tensor.__eq__", "Worker.reply"):
        assert patched in report[0]
    assert "grader.testing" in report[0]  # it tried; what it reached is only ever its own process


def test_objects_with_a_lying_eq_score_zero(batch):
    liar = batch.results["lying_eq"]
    assert (liar.status, liar.score) == ("graded", 0.0)
    assert "passed" not in outcomes(liar).values()
    for test in liar.tests:
        assert "cannot be graded" in test.message or "expected a torch.Tensor" in test.message, test


# --------------------------------------------------------------------------- time


def test_the_batch_finishes_in_bounded_time(batch):
    # The deadlines that must expire (one load, four tests) and a few seconds per submission
    # for starting workers: nothing waits on a hostile submission beyond its limits.
    deadlines = on_the_clock(LIMITS.load_seconds + 4 * LIMITS.test_seconds)
    assert batch.seconds < deadlines + 5 * len(batch.results)
    assert all(r.seconds < deadlines + 15 for r in batch.results.values())


# --------------------------------------------------------------------------- mode="all"


def test_top_level_loop_times_out_when_every_statement_runs(all_mode):
    result = all_mode.results["loop_top_level"]
    assert (result.status, result.score) == ("timeout", 0.0)
    assert "top-level code runs when it is loaded" in result.message
    assert result.seconds < on_the_clock(LIMITS.load_seconds) + 15


def test_top_level_exit_kills_loading_when_every_statement_runs(all_mode):
    result = all_mode.results["exit_top_level"]
    assert (result.status, result.score) == ("killed", 0.0)
    assert "ended the worker" in result.message and "exited with code 0" in result.message
    assert set(outcomes(result).values()) == {"skipped"}


def test_forger_top_level_code_changes_nothing_when_every_statement_runs(all_mode):
    forger = all_mode.results["forger"]
    assert (forger.status, forger.score) == ("graded", 0.0)
    assert "Score: 100/100 -- All tests passed 100/100" in forger.output  # top-level code ran
    reference = all_mode.results["perceptron"]
    assert (reference.status, reference.score) == ("graded", FULL)


# --------------------------------------------------------------------------- what it sends, what it is named


def test_no_text_a_submission_controls_reaches_a_result_unescaped(batch):
    for name, result in batch.results.items():
        shown = everything_shown(result) + "".join(t.name for t in result.tests)
        assert not UNSAFE.search(shown), (name, UNSAFE.search(shown))


def test_every_sink_takes_every_result_with_its_exact_score_and_no_control_character(batch):
    """The gradebook (SQLite refuses a lone surrogate), the results file (strict UTF-8 JSON)
    and the lines the command line prints (one line each, nothing a terminal obeys)."""
    assert list(batch.stored) == [safe_text.line(name) for name in batch.results]
    for name in batch.results:
        stored = batch.stored[safe_text.line(name)]
        assert (stored.status, stored.score) == EXPECTED[name]
        texts = [stored.submission, everything_shown(stored)]
        assert not any(UNSAFE.search(text) for text in texts), name
    raw = batch.results_path.read_bytes().decode("utf-8")
    assert not UNSAFE.search(json.dumps(json.loads(raw), ensure_ascii=False).encode("utf-8").decode())
    assert len(batch.lines) == len(batch.results)
    for line in batch.lines:
        assert not UNSAFE.search(line) and "\n" not in line, line


def test_a_lone_surrogate_costs_only_the_tests_it_fails(batch):
    result = batch.results["surrogate_message"]
    assert (result.status, result.score) == ("graded", 17.0)
    raised = outcomes_of(result, "test_sign", "test_predict")
    assert len(raised) == 4 and set(raised.values()) == {"failed"}
    assert all("raised ValueError: \\ud800" in t.message for t in result.tests if t.outcome == "failed")
    # the class body's; \udcff is what a byte that is not UTF-8 becomes in a file name: shown as one
    assert any("ValueError: \\ud800 \\xff" in note for note in result.notes)


def test_a_forged_load_reply_is_a_broken_protocol_not_a_broken_suite(batch):
    result = batch.results["forged_load_reply"]
    assert (result.status, result.score) == ("killed", 0.0)
    assert "broke its worker" in result.message and "load reply" in result.message
    assert set(outcomes(result).values()) == {"skipped"}


def test_terminal_escapes_arrive_as_visible_text_and_fake_no_line(batch):
    result = batch.results["terminal_escapes"]
    assert (result.status, result.score) == ("graded", 17.0)
    escaped = (
        "\\x1b[2K\\x0dmallory: 23/23 [graded]\\x1b]0;all graded\\x07\\x1b]52;c;cm0gLXJmIH4=\\x07\\u009b2J"
    )
    assert escaped in result.output  # what sigmoid printed
    assert any(escaped in note for note in result.notes)  # what the class body raised
    sign = [t for t in result.tests if t.name.startswith("test_sign")]
    assert all(escaped + "\\u202e" in t.message and len(t.message) <= MESSAGE_CHARS for t in sign)
    assert result_line(result) == f"{safe_text.line(result.submission)}: 17/23 [graded]"
    assert not any(line.startswith("mallory") for line in batch.lines)


def test_a_notebook_field_that_carries_escapes_is_shown_as_text(batch):
    result = batch.results["ansi_nbformat"]
    assert (result.status, result.score) == ("invalid_notebook", 0.0)
    assert "Unsupported nbformat version \\x1b[2K\\x0dmallory: 23/23 [graded]\\x1b]0;" in result.message
    line = next(line for line in batch.lines if line.startswith("ansi_nbformat: "))
    assert "[invalid_notebook] the notebook cannot be read" in line and not UNSAFE.search(line)


def test_file_names_that_rewrite_a_terminal_or_are_not_utf8_are_graded_and_shown_escaped(batch):
    for name in (ANSI_NAME, LATIN1_NAME):
        result = batch.results[Path(name).stem]
        assert (result.status, result.score) == ("graded", FULL)  # the honest notebook inside
        assert batch.stored[safe_text.line(Path(name).stem)].submission.endswith(safe_text.line(name))
    assert batch.stored["m\\xfcller"].submission.endswith("/m\\xfcller.ipynb")
    line = next(line for line in batch.lines if line.startswith("\\x1b[2K\\x0dmallory"))
    assert line.endswith(": 23/23 [graded]") and not UNSAFE.search(line)


def test_a_link_to_the_solution_and_a_fifo_are_refused_never_read(batch):
    for name, why in ((LINK, "symbolic link"), (FIFO, "not a regular file")):
        result = batch.results[Path(name).stem]
        assert (result.status, result.score) == ("refused", 0.0)
        assert why in result.message and result.output == ""
        assert set(outcomes(result).values()) == {"skipped"}


def test_the_command_line_grades_hostile_names_refuses_links_and_prints_no_escape(tmp_path):
    """``dlgrade grade`` on a folder as an LMS archive may unpack it: the honest notebook under
    hostile names and in a student folder, a student folder that is a link to the course's
    solutions, a link to the solution notebook, a FIFO and a notebook field with escapes."""
    given = tmp_path / "submissions"
    (given / "alice").mkdir(parents=True)
    for path in (given / "alice" / "a1.ipynb", given / ANSI_NAME, given / LATIN1_NAME):
        shutil.copy(HOSTILE / "honest.ipynb", path)
    shutil.copy(HOSTILE / "ansi_nbformat.ipynb", given)
    (given / "mallory").symlink_to(SOLUTION.parent)
    (given / "trudy.ipynb").symlink_to(SOLUTION)
    os.mkfifo(given / "eve.ipynb")
    out, book = tmp_path / "results.json", tmp_path / "gradebook.sqlite"
    arguments = [
        "grade",
        "-a",
        "a1",
        "-j",
        "1",
        "--json",
        str(out),
        "--gradebook",
        str(book),
        "--course",
        str(COURSE),
        "--test-timeout",
        "5",
        str(given),
    ]
    run = CliRunner().invoke(main, arguments)
    assert run.exit_code == 0, run.output
    assert not UNSAFE.search(run.output)
    entries = [line.split("] ", 1)[1] for line in run.output.splitlines() if line.startswith("[")]
    expected = {
        "alice": "23/23 [graded]",
        safe_text.line(Path(ANSI_NAME).stem): "23/23 [graded]",
        "m\\xfcller": "23/23 [graded]",
        "ansi_nbformat": "0/23 [invalid_notebook] the notebook cannot be read",
        "mallory": "0/23 [refused] the submission is a symbolic link",
        "trudy": "0/23 [refused] the submission is a symbolic link",
        "eve": "0/23 [refused] the submission is not a regular file",
    }
    assert len(entries) == len(expected)
    for student, verdict in expected.items():
        assert [e for e in entries if e.startswith(f"{student}: ") and verdict in e], (student, entries)
    data = json.loads(out.read_bytes().decode("utf-8"))
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    statuses = {student: verdict.split("[")[1].split("]")[0] for student, verdict in expected.items()}
    with Gradebook(book) as gradebook:
        assert {a.student: a.result.status for a in gradebook.attempts("a1")} == statuses
