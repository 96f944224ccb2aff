"""Each wall of the sandbox, probed from inside both kinds of worker: cold (bwrap per worker)
and warm (forked from a fork server).

One worker per kind surveys what it can see, read, reach, signal and write, knowing
exactly where the secrets are (a canary file, listening sockets and a process of its own
user, all set up here); a second worker of the same kind then looks for what the first
left behind. The hostile notebooks of ``test_hostile.py`` attack the same walls without
knowing where anything is, graded in a batch.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from support import COURSE, mount_points_in_tmp

from grader.errors import StudentCrashed
from grader.sandbox import forkserver, process
from grader.sandbox.forkserver import ForkServer
from grader.sandbox.limits import Limits
from grader.sandbox.process import TMP_BYTES, WorkerProcess, isolation_warning
from grader.sandbox.session import Session

IPC_KEY = 0x0D16_7AD0
LIMITS = Limits()
KEY_DESCRIPTION = "dlgrade-walls-login-token"

PROBE = """
import ctypes, errno, os, platform, re, resource, signal, socket, struct

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

def exists(paths):
    return {p: os.path.exists(p) for p in paths}

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
    return {"tmp": sorted(os.listdir("/tmp")), "ipc": _libc().shmget(ipc_key, 0, 0) >= 0,
            "dev_shm": sorted(os.listdir("/dev/shm")), "uid": os.getuid(),
            "keys": [line for line in open("/proc/keys") if "left-for-the-next" in line]}

def _number(name):
    # what an attacker calls: the numbers of this machine, as a student would look them up
    return {
    "x86_64": {"keyctl": 250, "add_key": 248, "request_key": 249, "ptrace": 101, "bpf": 321,
               "perf_event_open": 298, "userfaultfd": 323, "unshare": 272, "clone": 56,
               "mount": 165, "io_uring_setup": 425},
    "aarch64": {"keyctl": 219, "add_key": 217, "request_key": 218, "ptrace": 117, "bpf": 280,
                "perf_event_open": 241, "userfaultfd": 282, "unshare": 97, "clone": 220,
                "mount": 40, "io_uring_setup": 425},
    }[platform.machine()][name]

KEYCTL_READ, KEYCTL_SEARCH, SESSION_KEYRING, USER_KEYRING = 11, 10, -3, -4

def _raw(name, *args):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    args = [a if a is None or isinstance(a, (bytes, ctypes.Array)) else ctypes.c_long(a) for a in args]
    result = libc.syscall(ctypes.c_long(_number(name)), *args)
    return result if result >= 0 else errno.errorcode[ctypes.get_errno()]

def _read_key(key):
    buffer = ctypes.create_string_buffer(4096)
    size = _raw("keyctl", KEYCTL_READ, key, buffer, 4096)
    return buffer.raw[:min(size, 4096)] if isinstance(size, int) else size

def steal_keys(description):
    \"\"\"Read every key of the session keyring this process was started with.\"\"\"
    ids = _read_key(SESSION_KEYRING)
    found = {"session_keyring": ids if isinstance(ids, str) else len(ids) // 4}
    if not isinstance(ids, str):
        found["payloads"] = [_read_key(key).decode(errors="replace")
                             for key in struct.unpack(str(len(ids) // 4) + "i", ids)]
    found["search"] = _raw("keyctl", KEYCTL_SEARCH, SESSION_KEYRING, b"user", description.encode(), 0)
    found["listed"] = [line for line in open("/proc/keys") if description in line]
    found["left_a_key"] = _raw("add_key", b"user", b"left-for-the-next", b"psst", 4, USER_KEYRING)
    found["left_in_dev_shm"] = _try(lambda: open("/dev/shm/left-behind", "w").write("for the next"))
    found["written_outside_tmp"] = {folder: _try(lambda f=folder: open(f + "/written", "w").write("x"))
                                    for folder in ("/", "/dev", "/home", "/usr")}
    return found

def _in_a_child(name, *args):
    pid = os.fork()
    if pid == 0:
        result = _raw(name, *args)
        os._exit(0 if isinstance(result, int) else getattr(errno, result))
    return errno.errorcode.get(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), "allowed")

def _clone_a_user_namespace():
    result = _raw("clone", 0x10000000 | signal.SIGCHLD, 0, 0, 0, 0)
    if result == 0:
        os._exit(0)
    if isinstance(result, int):
        os.waitpid(result, 0)
        return "allowed"
    return result

def forbidden_calls():
    found = {
        "keyctl": _raw("keyctl", 0, SESSION_KEYRING, 0),
        "request_key": _raw("request_key", b"user", b"anything", None, 0),
        "ptrace": _raw("ptrace", 7, 999999, 0, 0),
        "bpf": _raw("bpf", 999, 0, 0),
        "perf_event_open": _raw("perf_event_open", 0, 0, -1, -1, 0),
        "userfaultfd": _raw("userfaultfd", 0),
        "io_uring_setup": _raw("io_uring_setup", 1, 0),
        "mount": _raw("mount", b"none", b"/tmp", b"tmpfs", 0, None),
        "unshare(CLONE_NEWUSER)": _in_a_child("unshare", 0x10000000),
        "clone(CLONE_NEWUSER)": _clone_a_user_namespace(),
    }
    status = open("/proc/self/status").read()
    found["status"] = {key: re.search(key + r":\\s+(\\d+)", status).group(1)
                       for key in ("Seccomp", "NoNewPrivs")}
    return found

def reply_with_a_frame_of(megabytes):
    # student code replaces the worker's frame writer: its reply is megabytes of numbers
    import sys
    def flood(fd, message, *args):
        body = b'{"ok":[' + b"0," * (megabytes << 19) + b"0]}"
        data = memoryview(struct.pack(">I", len(body)) + body)
        while data:
            data = data[os.write(fd, data):]
    sys.modules["wire"].write_reply = flood
    return "sent"

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
    uid = 65534  # nobody, a user every cold worker once shared
    user = {"user": uid, "group": uid, "extra_groups": []} if os.getuid() == 0 else {}
    victim = subprocess.Popen(
        ["sleep", "600"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **user,
    )
    yield {
        "base": base,
        "canary": canary,
        "port": tcp.getsockname()[1],
        "unix": str(base / "grader.sock"),
        "abstract": abstract_name,
        "victim": victim,
    }
    victim.kill()
    victim.wait()
    for sock in (tcp, unix, abstract):
        sock.close()
    shutil.rmtree(base, ignore_errors=True)


def looked_for(outside) -> list[str]:
    """Paths a worker must not see: the secrets' folder, this checkout (a course: it has
    suites and references), homes, and where services keep their sockets and data."""
    return [
        str(outside["canary"]),
        str(outside["base"]),
        str(COURSE / "suites"),
        str(COURSE / "reference"),
        "/home",
        "/root/.ssh",
        "/var",
        "/srv",
        "/run",
        "/mnt",
        "/opt",
        "/media",
    ]


def child_files() -> list[str]:
    """dlgrade's side inside the worker: ``grader/sandbox/child/``, bound into its view."""
    return [str(path) for path in sorted(process.WORKER_SCRIPT.parent.glob("*.py"))]


def trusted_files() -> list[str]:
    """dlgrade's trusted side, which a worker must not read: the rest of the sandbox
    package (sessions, the fork server's client, the view itself), grading and the CLI."""
    import grader.cli
    import grader.grading.plugin
    import grader.sandbox.session

    sandbox = Path(process.__file__).parent
    modules = [
        process.__file__,
        forkserver.__file__,
        grader.sandbox.session.__file__,
        grader.cli.__file__,
        grader.grading.plugin.__file__,
    ]
    return [*map(str, sorted(sandbox.glob("*.py"))), *modules]


@pytest.fixture(scope="module")
def login_secret():
    """A secret in this process's session keyring, where an instructor's login keeps one
    (``keyctl add user token ... @s``): every worker is started from this process."""
    seccomp = pytest.importorskip("pyseccomp", exc_type=ImportError)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long

    def keyctl_call(name, *args):
        number = seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
        return libc.syscall(ctypes.c_long(number), *args)

    secret = f"dlgrade-secret-{secrets.token_hex(8)}".encode()
    key = keyctl_call(
        "add_key", b"user", KEY_DESCRIPTION.encode(), secret, ctypes.c_long(len(secret)), ctypes.c_long(-3)
    )
    if key < 0:
        pytest.skip(f"this kernel keeps no keys: {os.strerror(ctypes.get_errno())}")
    yield secret.decode()
    keyctl_call("keyctl", ctypes.c_long(21), ctypes.c_long(key))  # KEYCTL_INVALIDATE


# --------------------------------------------------------------------------- the two kinds of worker


@pytest.fixture(scope="module", params=["cold", "warm"])
def spawn(request, outside, login_secret):
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
    args = [
        looked_for(outside),
        outside["port"],
        outside["unix"],
        outside["abstract"],
        outside["victim"].pid,
        IPC_KEY,
    ]
    reply = call(first, "survey", *args)
    assert "ok" in reply, reply
    keys, forbidden = call(first, "steal_keys", KEY_DESCRIPTION), call(first, "forbidden_calls")
    dlgrade = call(first, "exists", [*child_files(), *trusted_files()])["ok"]
    first_uid = call(first, "leftovers", IPC_KEY)["ok"]["uid"]
    backstop = LIMITS.test_seconds * LIMITS.wall_factor  # the grader's wall-clock deadline for one test
    recursion = call(first, "recurse", timeout=backstop)
    first.kill()
    second = started(spawn)
    after = call(second, "leftovers", IPC_KEY)
    second.kill()
    found = {
        **reply["ok"],
        "after": after["ok"],
        "host_segments": host_segment_keys(),
        "first_uid": first_uid,
        "keys": keys["ok"],
        "forbidden": forbidden["ok"],
    }
    found["dlgrade"] = dlgrade
    return {**found, "recursion": recursion}


def host_segment_keys() -> set[int]:
    rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {int(row.split()[0]) for row in rows if row.strip()}


# --------------------------------------------------------------------------- the walls


@pytest.mark.sandbox
def test_nothing_outside_the_system_and_python_is_there(walls, outside):
    assert [path for path, there in walls["paths"].items() if there] == []
    assert set(walls["read"].values()) == {"denied: No such file or directory"}


@pytest.mark.sandbox
def test_of_dlgrade_only_the_child_folder_is_in_the_workers_view(walls):
    python = tuple(p for p in process.readable_paths() if p != str(process.WORKER_SCRIPT.parent))
    if any(path.startswith(python) for path in trusted_files()):
        pytest.skip("dlgrade is installed inside the Python the worker runs, which the view binds whole")
    seen = walls["dlgrade"]
    assert all(seen[path] for path in child_files())  # the worker's own code is there ...
    assert [path for path in trusted_files() if seen[path]] == []  # ... and nothing of the trusted side


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
    # counted from what the worker had mapped once torch was imported (worker.address_space_bytes)
    assert LIMITS.memory_mb * mib < rlimits["RLIMIT_AS"] < (LIMITS.memory_mb + 8192) * mib
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
def test_the_keyring_of_the_graders_login_is_out_of_reach(walls, login_secret):
    """The attack of issue 15: ctypes and syscall(keyctl) read the session keyring."""
    keys = walls["keys"]
    assert login_secret not in repr(keys)
    assert keys["session_keyring"] == keys["search"] == "EPERM"  # the filter refuses keyctl ...
    if os.getuid() == 0:  # ... and the worker's own keyring does not even hold the key
        assert keys["listed"] == []
    else:  # /proc/keys names the keys of one's own uid, a worker's too when it is the grader's
        assert all(KEY_DESCRIPTION in line for line in keys["listed"])


@pytest.mark.sandbox
def test_calls_a_grader_never_needs_are_refused(walls):
    forbidden = walls["forbidden"]
    assert forbidden.pop("status") == {"Seccomp": "2", "NoNewPrivs": "1"}  # a filter, no set-uid way back
    assert forbidden == dict.fromkeys(forbidden, "EPERM")


@pytest.mark.sandbox
def test_nothing_a_worker_leaves_in_the_kernel_reaches_the_next(walls):
    """A key on its uid's keyring, a file in /dev/shm, a SysV segment: the next worker, of
    another uid, finds none of them."""
    assert walls["keys"]["left_a_key"] == "EPERM" and walls["after"]["keys"] == []
    assert walls["keys"]["left_in_dev_shm"].startswith("denied") and walls["after"]["dev_shm"] == []
    assert walls["ipc_made"] and walls["after"]["ipc"] is False
    if os.getuid() == 0:
        assert walls["after"]["uid"] != walls["first_uid"]


@pytest.mark.sandbox
def test_nothing_outside_tmp_is_writable(walls):
    """Under an unprivileged bwrap, / and /dev are tmpfs of the grader's own uid: writable,
    up to half the machine's memory, unless made read-only."""
    written = walls["keys"]["written_outside_tmp"]
    assert all(outcome.startswith("denied") for outcome in written.values()), written


@pytest.mark.sandbox
def test_a_recursion_error_a_million_frames_deep_comes_back_in_time(walls):
    error = walls["recursion"]["error"]
    assert error["type"] == "RecursionError" and "<cell 1>" in error["traceback"]
    assert len(error["traceback"]) <= 4000  # cut short; back before the deadline (see the fixture)


@pytest.mark.sandbox
@pytest.mark.parametrize("megabytes", [4, 16, 64])
def test_a_flood_of_a_reply_crashes_the_test_at_once_and_costs_the_grader_little(spawn, megabytes):
    """16 MB of JSON once cost a grading process 1 GB and 30 s, outside the deadline. Now
    a reply over 8 MiB is refused by its length, and 4 MB of two million numbers by its
    count of values, before a byte of it is parsed: the test ends ``crashed``."""
    session = Session([PROBE], limits=LIMITS, spawn=lambda limits: spawn())
    session.start()
    session.begin_test()
    message = {"op": "call", "target": {"name": "reply_with_a_frame_of"}, "args": [megabytes], "kwargs": {}}
    tracemalloc.start()
    try:
        with pytest.raises(StudentCrashed, match="exceeds the limit|values"):  # refused, not timed out
            session.request(message, "reply_with_a_frame_of")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        session.close()
    assert peak < 32 << 20  # the grading process allocated at most what one reply may hold
