"""Warm workers: one sandboxed fork server per batch, one forked worker per submission.

A cold worker starts an interpreter and imports torch: about a second. The fork
server (``zygote.py``) does that once, inside the same bubblewrap view a cold
worker gets; each worker is then a fork of it (a few milliseconds) that enters
fresh PID, mount and network namespaces, mounts its own /tmp and /proc, and drops
to a uid of its own before it reads a line of student code. Its pipes are made
here and handed over with SCM_RIGHTS, so the server never carries a student's
data, and killing a worker kills its whole namespace.

The walls a forked worker needs (namespaces, mounts) take root inside the sandbox.
A grader running as root has it, and each worker drops to a uid of its own. Any
other user gets it in a user namespace (unprivileged bubblewrap, ``USER_NAMESPACE``),
and each worker leaves that for a user namespace of its own, where it holds no power
over anything that exists. Where neither is possible (no bwrap, user namespaces
forbidden), ``available()`` is false and sessions start cold workers.
"""

from __future__ import annotations

import functools
import json
import os
import select
import socket
import subprocess
import sys
import threading
from pathlib import Path

from grader.sandbox.limits import Limits
from grader.sandbox.process import (
    READY_SECONDS,
    Channel,
    WorkerDied,
    WorkerError,
    _bwrap_view,
    _environment,
    bwrap_path,
    paths_in_tmp,
    readable_paths,
    worker_rlimits,
)
from grader.sandbox.uids import next_worker_uid
from grader.sandbox.watchdog import pid_in_namespace

ZYGOTE_SCRIPT = Path(__file__).parent / "child" / "zygote.py"


USER_NAMESPACE = [
    "--unshare-user",
    "--uid",
    "0",
    "--gid",
    "0",
    "--cap-add",
    "CAP_SYS_ADMIN",
    "--cap-add",
    "CAP_SETFCAP",
]
"""How an unprivileged grader's fork server gets the power to make its workers' namespaces
and mounts: root of a user namespace of its own, with CAP_SYS_ADMIN there and nowhere else.
Each worker then leaves it for a user namespace of its own (``zygote._own_user``), whose
map names the server's uid 0: the kernel allows that only to a process that could set file
capabilities where it stood (CAP_SETFCAP), since Linux 5.12."""


def available() -> bool:
    """Whether this machine can run warm workers (else: cold ones, same guarantees): as
    root with bwrap, or as any user where bwrap can make user namespaces."""
    if sys.platform != "linux" or bwrap_path() is None:
        return False
    return os.getuid() == 0 or _user_namespaces_work()


def _bwrap() -> str:
    """bwrap's path: warm workers are only used where there is one (``can_warm``)."""
    path = bwrap_path()
    if path is None:
        raise OSError("warm workers need bubblewrap (bwrap), and it is not installed")
    return path


@functools.lru_cache(maxsize=1)
def _user_namespaces_work() -> bool:
    """Whether, in the fork server's sandbox, a process can do what the fork server does for
    each worker: new PID, mount, network and IPC namespaces, a tmpfs, and a user namespace.
    Distributions may forbid unprivileged user namespaces (a sysctl, an AppArmor policy)."""
    try:
        command = [_bwrap(), *_server_sandbox(()), "--", sys.executable, "-I", "-c", _NAMESPACE_PROBE]
        probe = subprocess.run(command, capture_output=True, timeout=30, env=_environment("/tmp"))
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


_NAMESPACE_PROBE = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
assert libc.unshare(0x20000000 | 0x00020000 | 0x40000000 | 0x08000000) == 0  # PID, mount, net, IPC
assert libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, b"size=1m") == 0
assert libc.unshare(0x10000000) == 0  # a user namespace, the worker's own
assert libc.prctl(4, 1, 0, 0, 0) == 0  # PR_SET_DUMPABLE
for name, text in (("setgroups", "deny"), ("uid_map", "1000 0 1"), ("gid_map", "1000 0 1")):
    with open("/proc/self/" + name, "w") as handle:
        handle.write(text)
"""


def _server_sandbox(hide: tuple[str, ...]) -> list[str]:
    """bwrap's options for a fork server: a worker's view, in a user namespace unless root."""
    return [*(USER_NAMESPACE if os.getuid() != 0 else []), *_bwrap_view(None, hide)]


class ForkServer:
    """The trusted side of one zygote: ask it for workers, tell it to kill them."""

    def __init__(self, hide: tuple[str, ...] = ()):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        zygote = [sys.executable, "-I", str(ZYGOTE_SCRIPT), "--control-fd", str(theirs.fileno())]
        zygote += [arg for path in paths_in_tmp(readable_paths()) for arg in ("--keep-in-tmp", path)]
        command = [_bwrap(), *_server_sandbox(hide), "--", *zygote]
        self._proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(theirs.fileno(),),
            env=_environment("/tmp"),
            start_new_session=True,
        )
        assert self._proc.stderr is not None  # stderr=PIPE: for mypy, which cannot know
        self._errors = self._proc.stderr
        theirs.close()
        self._sock = ours
        self._sock.settimeout(READY_SECONDS)
        self._reader = ours.makefile("rb")
        self._lock = threading.Lock()
        try:
            self._reply()  # {"ready": pid} once torch is imported
        except (OSError, WorkerError) as exc:
            self._proc.kill()
            reason = f"the fork server did not start ({exc}): {self._stderr()}"
            self.close()
            raise WorkerDied(reason) from None

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    @property
    def pid(self) -> int:
        """bwrap's pid: every worker of this server is a process below it."""
        return self._proc.pid

    def spawn(self, limits: Limits) -> ForkedWorker:
        """A fresh worker with ``limits``, ready for requests."""
        return ForkedWorker(self, limits)

    def ask(self, message: dict, fds: tuple[int, ...] = ()) -> dict:
        """One control message and its reply (the server handles one at a time)."""
        data = json.dumps(message).encode() + b"\n"
        with self._lock:
            try:
                if fds:
                    socket.send_fds(self._sock, [data], list(fds))
                else:
                    self._sock.sendall(data)
                reply = self._reply()
            except OSError as exc:
                raise WorkerDied(f"the fork server is gone ({exc})") from None
        if "error" in reply:
            raise WorkerDied(f"the fork server could not do it: {reply['error']}")
        return reply

    def _reply(self) -> dict:
        line = self._reader.readline()
        if not line:
            raise WorkerDied("the fork server closed its socket")
        return json.loads(line)

    def close(self) -> None:
        """Stop the server; bwrap's PID namespace takes every worker still running."""
        for closer in (self._reader.close, self._sock.close):
            try:
                closer()
            except (OSError, AttributeError):
                pass
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._errors.close()

    def _stderr(self) -> str:
        try:
            return self._errors.read()[-2000:].decode(errors="replace")
        except (OSError, ValueError):
            return ""

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ForkedWorker(Channel):
    """A worker forked by a ``ForkServer``: the same requests and deadlines as a cold one."""

    def __init__(self, server: ForkServer, limits: Limits):
        self._server = server
        call_read, call_write = os.pipe()
        reply_read, reply_write = os.pipe()
        output_read, output_write = os.pipe()
        try:
            options = {**worker_rlimits(limits), "threads": limits.threads}
            # as root, a uid of its own, never another worker's (uids.py); otherwise the grader's
            # own, the only one an unprivileged user namespace can map
            self.uid = next_worker_uid() if os.getuid() == 0 else os.getuid()
            message = {"op": "spawn", "uid": self.uid, "limits": options}
            reply = server.ask(message, (call_read, reply_write, output_write))
        finally:
            for fd in (call_read, reply_write, output_write):
                os.close(fd)
        self.pid = int(reply["pid"])
        self._status: int | None = None
        self._host_pid: int | None = None
        super().__init__(limits, call_write, reply_read, os.fdopen(output_read, "rb"))
        self._await_ready()

    @property
    def alive(self) -> bool:
        """Asked before every request, so it must not cost a round trip to the server: a
        worker that died has hung up its reply pipe (its whole PID namespace went with it)."""
        return self._status is None and self._reply_read >= 0 and not _hung_up(self._reply_read)

    def _tree_root(self) -> int | None:
        """The worker's pid as seen here: the server names it as its own namespace sees it."""
        if self._host_pid is None and self._status is None:
            self._host_pid = pid_in_namespace(self._server.pid, self.pid)
        return self._host_pid

    def _exit_code(self, timeout: float) -> int | None:
        """The worker's real exit status, from the fork server's waitpid; None while it runs,
        or when the server is gone (``server_lost``: a cause of its own)."""
        if self._status is None and not self._server.alive:
            self.server_lost = True
        if self._status is None and self._server.alive:
            try:
                self._status = self._server.ask({"op": "wait", "pid": self.pid, "timeout": timeout})["status"]
            except WorkerDied:
                self.server_lost = True
        return self._status

    def kill(self) -> None:
        """SIGKILL the worker, PID 1 of its namespace: everything it started dies with it."""
        if self._status is None and self._server.alive:
            try:
                self._server.ask({"op": "kill", "pid": self.pid})
                self._exit_code(timeout=5)
            except WorkerDied:
                pass
        self._close_pipes()


def _hung_up(fd: int) -> bool:
    """Whether the writing end of pipe ``fd`` is closed, without reading from it."""
    poller = select.poll()
    poller.register(fd, select.POLLHUP)
    return any(events & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, events in poller.poll(0))


class WarmWorkers:
    """What a batch starts its workers with: forks of one server, restarted if it dies."""

    def __init__(self, hide: tuple[str, ...] = ()):
        self.hide = hide
        self._server: ForkServer | None = None

    def __call__(self, limits: Limits) -> ForkedWorker:
        if self._server is None or not self._server.alive:
            self._server = ForkServer(self.hide)
        return self._server.spawn(limits)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
