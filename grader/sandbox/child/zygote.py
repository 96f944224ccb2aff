"""The fork server: pays for ``import torch`` once, then forks one sandboxed worker per request.

Runs inside bubblewrap (see ``forkserver.py``), as root *inside* that sandbox only
(for a grader that is not root: root of a user namespace of its own), so that each
worker it forks can get walls of its own before it drops to an unprivileged uid, or,
in a user namespace, to a user namespace of its own:

    zygote (imports torch, set_num_threads(1): forking after OpenMP started can hang)
      └─ middle: unshare(PID, mount, network, IPC namespaces), fork, report, exit
           └─ worker: PID 1 of a fresh namespace; private /tmp and /proc; its own uid;
                      rlimits; an empty keyring and the seccomp filter (``syscalls.py``);
                      then the same request loop as a cold ``worker.py``

Killing a worker (PID 1 of its namespace) kills everything it started. The zygote
is a child subreaper, so each worker becomes the zygote's child when its middle
process exits, and the zygote can kill it and read its exit status.

Control messages arrive on a Unix socket from the trusted side, one JSON line per
message, with the worker's pipe ends attached (SCM_RIGHTS):

    {"op": "spawn", "uid": 1000001, "limits": {..., "threads": 1}} + [call_read, reply_write, output_write]
        -> {"pid": 1234}
    {"op": "kill", "pid": 1234}                     -> {"ok": true}
    {"op": "wait", "pid": 1234, "timeout": 1.0}      -> {"status": -9}   (None while it runs)
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import socket
import sys
import time
import types

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves our folder off sys.path
import reach  # noqa: E402
import worker  # noqa: E402  (pre-imports torch.nn, torch.optim and wire, as a cold worker does)

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC = 0x00020000, 0x20000000, 0x40000000, 0x08000000
CLONE_NEWUSER = 0x10000000
MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV = 0x4000, 0x40000, 0x2, 0x4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4
TMP_SIZE = "size=256m,nr_inodes=65536,mode=1777"

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    encoded = [s.encode() if s is not None else None for s in (source, target, fstype, data)]
    _check(_libc.mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]), f"mount {target}")


# --------------------------------------------------------------------------- the worker


def become_worker(fds: list[int], uid: int, limits: dict) -> None:
    """In the fresh namespaces: private /tmp and /proc, only our pipes, our uid, our limits."""
    call_fd, reply_fd, output_fd = fds
    # a process group of its own: kill(0) from the worker must not reach the zygote's group,
    # which, for a grader that is not root, has the worker's own uid (not setsid(): a new
    # session costs a new scheduler autogroup, milliseconds on every spawn)
    os.setpgid(0, 0)
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)  # our mounts stay ours
    _private_tmp(KEEP_IN_TMP)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV, None)  # shows this namespace only
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    _close_all_but({0, 1, 2, call_fd, reply_fd})  # the control socket above all
    os.chdir("/tmp")
    os.environ.update({"HOME": "/tmp", "TMPDIR": "/tmp"})
    options = types.SimpleNamespace(**{name: int(value) for name, value in limits.items()})
    torch.set_num_threads(getattr(options, "threads", 1))  # the zygote never started OpenMP's pool
    if IN_USER_NAMESPACE:
        _own_user(uid)
    else:
        worker.drop_privileges(uid)
    worker.set_limits(options)
    worker.syscalls.lock_down()
    worker.serve(call_fd, reply_fd)


def _in_user_namespace() -> bool:
    """Whether this zygote runs in a user namespace (an unprivileged grader's bwrap), where
    it is root of that namespace only, and no other uid exists to drop to."""
    try:
        with open("/proc/self/uid_map") as handle:
            return handle.read().split() != ["0", "0", "4294967295"]
    except OSError:
        return False


IN_USER_NAMESPACE = _in_user_namespace()


def _own_user(uid: int) -> None:
    """Leave the zygote's user namespace for a new one, as ``uid`` (the grader's own).

    The worker's namespaces and mounts belong to the zygote's user namespace, in which
    it now holds no capability: it cannot unmount its /tmp, remount the view or signal
    anything. What it holds in its own user namespace reaches nothing that exists, and
    the seccomp filter refuses the calls that would make new namespaces to use it on.
    """
    _unshare(CLONE_NEWUSER)
    # new credentials made the process non-dumpable, which gives /proc/self to the
    # machine's root: dumpable again, so that it may write its own maps
    _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "prctl(PR_SET_DUMPABLE)")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} 0 1"), ("gid_map", f"{uid} 0 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    # and not dumpable, as a worker that dropped root is: its /proc/self (environment,
    # memory) stays out of reach of anything it starts
    _check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(PR_SET_DUMPABLE)")


KEEP_IN_TMP: list[str] = []
"""Folders of the view inside /tmp (``--keep-in-tmp``): a virtual environment, dlgrade in a clone."""


def _private_tmp(keep: list[str]) -> None:
    """A fresh /tmp, with the view's folders that live in /tmp still there, as bwrap bound
    them (read-only): held open across the mount that hides them, then bound back."""
    held = reach.hold(keep)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, TMP_SIZE)
    reach.bind_back(held)


def _close_all_but(keep: set[int]) -> None:
    """Workers hold their own pipes and nothing else: not the zygote's control socket."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the descriptor of the listing itself, already gone


def spawn(fds: list[int], uid: int, limits: dict) -> int:
    """Fork a worker in namespaces of its own; returns its pid as the zygote sees it."""
    report_read, report_write = os.pipe()
    middle = os.fork()
    if middle == 0:
        try:
            os.close(report_read)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC)
            pid = os.fork()
            if pid == 0:
                os.close(report_write)
                become_worker(fds, uid, limits)
                os._exit(0)
            os.write(report_write, str(pid).encode())
            os._exit(0)
        except BaseException as exc:  # noqa: BLE001
            os.write(report_write, f"error {exc}".encode())
            os._exit(1)
    os.close(report_write)
    report = _read_all(report_read)
    os.waitpid(middle, 0)
    for fd in fds:
        os.close(fd)
    if not report.isdigit():
        raise OSError(report or "the worker could not start")
    return int(report)


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode()


# --------------------------------------------------------------------------- control loop


def wait(pid: int, timeout: float) -> int | None:
    """The worker's exit status (negative: killed by that signal), or None while it runs.

    Also reaps orphans the subreaper inherited (a worker's middle process, or anything
    that escaped), so no zombie outlives a batch.
    """
    deadline = time.monotonic() + timeout
    exited = _exit_notice(pid)
    try:
        while True:
            _reap()
            if pid in _ended:
                return _ended.pop(pid)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if exited is None:
                time.sleep(min(remaining, 0.005))
            else:
                select.select([exited], [], [], remaining)  # woken the moment it exits
    finally:
        if exited is not None:
            os.close(exited)


def _exit_notice(pid: int) -> int | None:
    """A pidfd, readable once ``pid`` has exited (Linux 5.3+); None: poll instead."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # an old kernel, or a pid already reaped
        return None


_ended: dict[int, int] = {}


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _ended[pid] = os.waitstatus_to_exitcode(status)


def handle(message: dict, fds: list[int]) -> dict:
    op = message.get("op")
    if op == "spawn":
        return {"pid": spawn(fds, int(message["uid"]), message["limits"])}
    if op == "kill":
        try:
            os.kill(int(message["pid"]), signal.SIGKILL)
        except ProcessLookupError:
            pass
        return {"ok": True}
    if op == "wait":
        return {"status": wait(int(message["pid"]), float(message.get("timeout", 0)))}
    return {"error": f"unknown op {op!r}"}


def serve(control: int) -> None:
    sock = socket.socket(fileno=control)
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
    sock.sendall(json.dumps({"ready": os.getpid()}).encode() + b"\n")
    while True:
        line, fds = _receive(sock)
        if not line:
            return
        try:
            reply = handle(json.loads(line), fds)
        except Exception as exc:  # noqa: BLE001
            for fd in fds:
                os.close(fd)
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sock.sendall(json.dumps(reply).encode() + b"\n")


def _receive(sock: socket.socket) -> tuple[bytes, list[int]]:
    """One newline-terminated message and the descriptors sent with it."""
    data, fds = b"", []
    while not data.endswith(b"\n"):
        chunk, new_fds, _flags, _addr = socket.recv_fds(sock, 65536, 8)
        fds += new_fds
        if not chunk:
            return b"", fds
        data += chunk
    return data, fds


def warm_up() -> None:
    """Do once, here, the first-time work every worker would repeat: forks inherit it done.
    NumPy's first seeding in a process alone costs about 10 ms (a fork's second, 0.1 ms), and
    a worker's first request is a seeding. The seeds themselves are set again before each test."""
    worker.seed_everything(0)
    (torch.ones(2) * 2).sum().item()


def main(argv: list[str]) -> None:
    torch.set_num_threads(1)  # before any fork: a forked OpenMP pool can hang
    if worker.syscalls.available():
        worker.syscalls.build_filter()  # once, here: each worker only loads it
    warm_up()
    KEEP_IN_TMP.extend(argv[i + 1] for i, arg in enumerate(argv) if arg == "--keep-in-tmp")
    serve(int(argv[argv.index("--control-fd") + 1]))


if __name__ == "__main__":
    main(sys.argv[1:])
