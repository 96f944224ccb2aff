"""Each wall of the sandbox, probed from inside both kinds of worker: cold (bwrap per worker)
and warm (forked from a fork server).

One worker per kind surveys what it can see, read, reach, signal and write, knowing
exactly where the secrets are (a canary file, listening sockets and a process of its own
user, all set up here); a second worker of the same kind then looks for what the first
left behind. The hostile notebooks of ``test_hostile.py`` attack the same walls without
knowing where anything is, graded in a batch.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import ROOT

from grader.cli import main
from grader.sandbox import forkserver, process, wire
from grader.sandbox.forkserver import ForkServer
from grader.sandbox.limits import Limits
from grader.sandbox.process import TMP_BYTES, WorkerProcess, isolation_warning

IPC_KEY = 0x0D16_7AD0
LIMITS = Limits()

PROBE = """
import ctypes, os, resource, signal, socket

def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    return libc

def _try(what):
    try:
        return "ok: " + repr(what())[:200]
    except OSError as exc:
        return "denied: " + (exc.strerror or type(exc).__name__)

def _connect(family, address):
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        sock.connect(address)
        return "connected"

def survey(paths, port, unix_path, abstract_name, victim, ipc_key):
    found = {"paths": {p: os.path.exists(p) for p in paths}}
    found["read"] = {p: _try(lambda p=p: open(p, "rb").read(100)) for p in paths if not os.path.isdir(p)}
    found["mounts"] = open("/proc/self/mountinfo").read()
    found["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    found["kill_victim"] = _try(lambda: os.kill(victim, signal.SIGKILL))
    found["tcp"] = _try(lambda: _connect(socket.AF_INET, ("127.0.0.1", port)))
    found["unix"] = _try(lambda: _connect(socket.AF_UNIX, unix_path))
    found["abstract"] = _try(lambda: _connect(socket.AF_UNIX, "\\0" + abstract_name))
    found["home"], found["cwd"] = os.environ.get("HOME"), os.getcwd()
    found["rlimits"] = {name: resource.getrlimit(getattr(resource, name))[1]
                        for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE",
                                     "RLIMIT_NPROC", "RLIMIT_CORE")}
    found["open_files"] = _open_until_refused()
    libc = _libc()
    shmid = libc.shmget(ipc_key, 1 << 20, 0o1000 | 0o666)
    found["ipc_made"] = shmid >= 0
    open("/tmp/left-behind", "w").write("for the next student")
    found["tmp_written"] = _fill("/tmp")
    return found

def _fill(folder):
    written = 0
    for number in range(64):  # at most 64 x 8 MB: more than the 256 MB /tmp may hold
        try:
            with open(os.path.join(folder, "fill-" + str(number)), "wb") as handle:
                handle.write(bytes(8 << 20))
            written += 8 << 20
        except OSError as exc:
            return [written, exc.strerror]
    return [written, "nothing stopped it"]

def _open_until_refused():
    opened = []
    try:
        while len(opened) < 100_000:
            opened.append(os.open("/dev/null", os.O_RDONLY))
        return [len(opened), "nothing stopped it"]
    except OSError as exc:
        return [len(opened), exc.strerror]
    finally:
        for fd in opened:
            os.close(fd)

def leftovers(ipc_key):
    return {"tmp": sorted(os.listdir("/tmp")), "ipc": _libc().shmget(ipc_key, 0, 0) >= 0}

def recurse():
    import sys
    sys.setrecursionlimit(10**6)
    def down(n):
        return down(n + 1) + 1
    return down(0)
"""


# --------------------------------------------------------------------------- what is set up here


@pytest.fixture(scope="module")
def outside():
    """A canary file in a folder outside /tmp, two listeners and a process running as the
    worker's own user, where a worker that escaped its walls would find them."""
    parent = Path("/var/tmp") if os.access("/var/tmp", os.W_OK) else Path(tempfile.gettempdir())
    base = Path(tempfile.mkdtemp(prefix="dlgrade-walls-", dir=parent))
    base.chmod(0o755)
    canary = base / "students" / "alice" / "a1.ipynb"
    canary.parent.mkdir(parents=True)
    canary.write_text(f"dlgrade-canary-{secrets.token_hex(8)}")
    canary.chmod(0o644)
    tcp = socket.create_server(("127.0.0.1", 0))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(str(base / "grader.sock"))
    os.chmod(base / "grader.sock", 0o777)
    unix.listen()
    abstract_name = f"dlgrade-walls-{os.getpid()}"
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind("\0" + abstract_name)
    abstract.listen()
    uid = LIMITS.sandbox_uid  # a cold worker's own user, when the grader is root
    user = {"user": uid, "group": uid, "extra_groups": []} if os.getuid() == 0 else {}
    victim = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, **user)  # fmt: skip
    yield {
        "base": base, "canary": canary, "port": tcp.getsockname()[1], "unix": str(base / "grader.sock"),
        "abstract": abstract_name, "victim": victim,
    }  # fmt: skip
    victim.kill()
    victim.wait()
    for sock in (tcp, unix, abstract):
        sock.close()
    shutil.rmtree(base, ignore_errors=True)


def looked_for(outside) -> list[str]:
    """Paths a worker must not see: the secrets' folder, this checkout (a course: it has
    suites and references), homes, and where services keep their sockets and data."""
    return [str(outside["canary"]), str(outside["base"]), str(ROOT / "suites"), str(ROOT / "reference"),
            "/home", "/root/.ssh", "/var", "/srv", "/run", "/mnt", "/opt", "/media"]  # fmt: skip


# --------------------------------------------------------------------------- the two kinds of worker


@pytest.fixture(scope="module", params=["cold", "warm"])
def spawn(request, outside):
    """Start a worker of the kind, hiding the secrets' student folder as grading would."""
    hide = (str(outside["canary"].parent),)
    if request.param == "cold":
        if isolation_warning() is not None:
            pytest.skip(f"no sandbox: {isolation_warning()}")
        yield lambda: WorkerProcess(LIMITS, hide)
        return
    if not forkserver.available():
        pytest.skip("warm workers need root and bubblewrap")
    with ForkServer(hide) as server:
        yield lambda: server.spawn(LIMITS)


def call(worker, name, *args, timeout=30):
    return worker.request({"op": "call", "target": {"name": name}, "args": list(args), "kwargs": {}}, timeout)


def started(spawn):
    worker = spawn()
    assert "ok" in worker.request({"op": "load", "cells": [PROBE], "mode": "definitions"}, 30)
    return worker


@pytest.fixture(scope="module")
def walls(spawn, outside):
    """What a first worker found, and what a second one found after it."""
    first = started(spawn)
    args = [looked_for(outside), outside["port"], outside["unix"], outside["abstract"], outside["victim"].pid,
            IPC_KEY]  # fmt: skip
    reply = call(first, "survey", *args)
    assert "ok" in reply, reply
    begun = time.monotonic()
    recursion = call(first, "recurse", timeout=60)
    recursion_seconds = time.monotonic() - begun
    first.kill()
    second = started(spawn)
    after = call(second, "leftovers", IPC_KEY)
    second.kill()
    found = {**reply["ok"], "after": after["ok"], "host_segments": host_segment_keys()}
    return {**found, "recursion": recursion, "recursion_seconds": recursion_seconds}


def host_segment_keys() -> set[int]:
    rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {int(row.split()[0]) for row in rows if row.strip()}


# --------------------------------------------------------------------------- the walls


@pytest.mark.sandbox
def test_nothing_outside_the_system_and_python_is_there(walls, outside):
    assert [path for path, there in walls["paths"].items() if there] == []
    assert set(walls["read"].values()) == {"denied: No such file or directory"}


@pytest.mark.sandbox
def test_the_mount_table_names_no_hidden_folder(walls, outside):
    """Hidden folders outside the view are not covered, just absent: a cover would show
    their path (often a student's name) in /proc/self/mountinfo."""
    assert str(outside["base"]) not in walls["mounts"]


@pytest.mark.sandbox
def test_no_process_outside_the_worker_is_in_sight_or_reach(walls, outside):
    assert len(walls["pids"]) <= 2  # the worker, and bwrap's init for a cold one
    assert walls["kill_victim"] == "denied: No such process"
    assert outside["victim"].poll() is None


@pytest.mark.sandbox
def test_no_connection_leaves_the_worker(walls):
    assert walls["tcp"] in ("denied: Network is unreachable", "denied: Connection refused")
    assert walls["unix"] == "denied: No such file or directory"
    assert walls["abstract"] == "denied: Connection refused"


def mount_points_in_tmp() -> set[str]:
    """When dlgrade itself lives under /tmp (a CI clone), bwrap makes the empty folders
    leading to the sandbox's read-only bind: those are not a previous worker's files."""
    tmp = Path("/tmp")
    bound = [process.WORKER_SCRIPT.parent, *map(Path, process._python_paths())]
    return {path.relative_to(tmp).parts[0] for path in bound if tmp in path.parents}


@pytest.mark.sandbox
def test_tmp_is_home_private_bounded_and_gone_with_the_worker(walls):
    assert walls["home"] == walls["cwd"] == "/tmp"
    written, stopped = walls["tmp_written"]
    assert 0 < written <= TMP_BYTES and stopped == "No space left on device"
    assert [entry for entry in walls["after"]["tmp"] if entry not in mount_points_in_tmp()] == []


@pytest.mark.sandbox
def test_every_resource_limit_applies(walls):
    mib = 1024 * 1024
    rlimits = walls["rlimits"]
    assert rlimits["RLIMIT_AS"] == LIMITS.memory_mb * mib
    assert rlimits["RLIMIT_CPU"] == LIMITS.submission_seconds + LIMITS.load_seconds + 10
    assert rlimits["RLIMIT_FSIZE"] == LIMITS.max_file_mb * mib and rlimits["RLIMIT_CORE"] == 0
    assert rlimits["RLIMIT_NOFILE"] == LIMITS.max_open_files
    # a cold worker's uid is shared: the processes it already runs on this machine are added
    assert LIMITS.max_processes <= rlimits["RLIMIT_NPROC"] < LIMITS.max_processes + 1000
    opened, stopped = walls["open_files"]
    assert opened < LIMITS.max_open_files and stopped == "Too many open files"


@pytest.mark.sandbox
def test_shared_memory_dies_with_the_worker_that_made_it(walls):
    assert walls["ipc_made"]  # the first worker did make a SysV segment ...
    assert walls["after"]["ipc"] is False  # ... the next one cannot find it ...
    assert IPC_KEY not in walls["host_segments"]  # ... nor can this machine


@pytest.mark.sandbox
def test_a_recursion_error_a_million_frames_deep_comes_back_in_time(walls):
    error = walls["recursion"]["error"]
    assert error["type"] == "RecursionError" and "<cell 1>" in error["traceback"]
    assert len(error["traceback"]) <= 4000
    assert walls["recursion_seconds"] < LIMITS.test_seconds / 2  # the traceback is not walked for seconds


# --------------------------------------------------------------------------- without a sandbox worker


def test_hidden_folders_outside_the_view_get_no_cover():
    hidden = "/var/tmp/course-x/submissions/alice"
    args = process._bwrap_view(None, (hidden, "/usr/share/course-y"))
    assert hidden not in args
    assert args[args.index("/usr/share/course-y") - 1] == "--tmpfs"  # inside the view: covered


def test_a_bwrap_too_old_for_the_view_counts_as_none(monkeypatch):
    monkeypatch.setattr(process.shutil, "which", lambda name: "/usr/bin/bwrap")
    monkeypatch.setattr(process, "_bwrap_can_build_the_view", lambda path: False)
    assert process.bwrap_path() is None
    assert "too old" in isolation_warning()


def test_a_returned_tensor_with_an_absurd_shape_is_a_wire_error():
    body = {"dtype": "float32", "shape": [0, 2**70], "device": "cpu", "data": ""}
    with pytest.raises(wire.WireError, match="bad shape"):
        wire.decode({"$tensor": body})
    with pytest.raises(wire.WireError, match="bad shape"):
        wire.decode({"$ndarray": {**body, "shape": [0, 2**62]}})


def test_grading_without_bubblewrap_says_what_is_lost(monkeypatch):
    monkeypatch.setattr(process.shutil, "which", lambda name: None)
    run = CliRunner().invoke(
        main, ["grade", "--assignment", "a9", str(ROOT / "reference" / "a1" / "perceptron.py")]
    )
    assert "warning: bubblewrap (bwrap) is not installed" in run.stderr
    for lost in ("PID namespace", "network isolation", "private view of the disk"):
        assert lost in run.stderr
