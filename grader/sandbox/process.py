"""Start, talk to and kill one worker process: the trusted side of the pipe.

A worker runs ``worker.py`` under bubblewrap when it is installed: fresh PID and IPC
namespaces (everything the student starts or creates dies with the worker), no
network, and a view of the disk made of the system's programs and libraries and the
Python it runs on, with a private, size-capped /tmp as its home (``_bwrap_view``).
Without bubblewrap it runs in its own session and process group, and a warning
says what is lost (see ``isolation_warning``). docs/security.md has the whole picture.

stdout and stderr are drained by threads into a capped buffer, so a flood of
output can neither block the worker nor fill the grader's memory.
"""

from __future__ import annotations

import functools
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader import safe_text
from grader.sandbox.child import syscalls, wire
from grader.sandbox.limits import Limits
from grader.sandbox.uids import next_worker_uid
from grader.sandbox.watchdog import MemoryWatchdog, tree_cpu_seconds

WORKER_SCRIPT = Path(__file__).parent / "child" / "worker.py"  # its folder is all a worker sees of dlgrade
PROC = "/proc"  # Linux's process table; other systems have none
READY_SECONDS = 60.0
CPU_POLL_SECONDS = 0.05
"""How often a request's CPU time is read while its worker computes."""
EXIT_SECONDS = 5.0
"""How long a worker whose reply pipe has closed may take to exit before dlgrade kills it:
its own exit status, not dlgrade's kill, must say how it ended."""
TMP_BYTES = 256 * 1024 * 1024
"""A worker's private /tmp, which is also its home: all it may write, together (tmpfs)."""

# What a worker sees of the machine besides its own Python: programs, libraries and /etc
# (the dynamic loader's cache, locales, time zones). Nothing else: other courses, other
# students' work, old results files, gradebooks and listening Unix sockets may be anywhere
# in /home, /root, /srv, /var, /run, /mnt, /opt or /tmp, and none of them is bound.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")
# What a GPU worker keeps of the grader's environment. CUDA_VISIBLE_DEVICES above all: under
# a scheduler that hands this job GPUs 2 and 3, the trusted side's cuda:0 is physical GPU 2,
# and a worker without it would compute on GPU 0, someone else's.
GPU_ENVIRONMENT = (
    "CUDA_VISIBLE_DEVICES",
    "CUDA_DEVICE_ORDER",
    "LD_LIBRARY_PATH",
    "NVIDIA_VISIBLE_DEVICES",
    "NVIDIA_DRIVER_CAPABILITIES",
)


class WorkerError(Exception):
    """The worker could not answer: see the subclasses."""


class WorkerTimeout(WorkerError):
    """No answer before the deadline; the worker has been killed. ``wall_clock``: the clock
    ran out, not the worker's CPU time: on an overloaded machine, no verdict on the student."""

    def __init__(self, reason: str, wall_clock: bool = False):
        super().__init__(reason)
        self.wall_clock = wall_clock


class WorkerDied(WorkerError):
    """The worker exited or broke the protocol; ``reason`` says how, for feedback.

    ``outside``: something other than the student's code and dlgrade ended it: a SIGKILL
    dlgrade did not send (another process, the kernel's OOM killer) or the loss of the
    fork server it came from. That is no verdict on the student: the test runs again.
    """

    def __init__(self, reason: str, outside: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.outside = outside


@dataclass
class CappedOutput:
    """Keeps the first ``limit`` bytes written to a stream and counts the rest."""

    limit: int
    kept: bytearray
    total: int = 0

    def add(self, chunk: bytes) -> None:
        room = self.limit - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]
        self.total += len(chunk)

    def text(self) -> str:
        """What was kept, as safe text: escapes a terminal would obey are shown as visible
        text (``safe_text``), and cut to the same limit, so they cannot make it longer."""
        body = safe_text.text(self.kept.decode("utf-8", errors="replace"), self.limit)
        if self.total > len(self.kept):
            body += f"\n[output truncated: {self.total} bytes written, {len(self.kept)} kept]"
        return body


def bwrap_path() -> str | None:
    """bubblewrap, when it is installed and can build the view (``--size``, ``--perms``)."""
    path = shutil.which("bwrap")
    return path if path is not None and _bwrap_can_build_the_view(path) else None


@functools.lru_cache(maxsize=4)
def _bwrap_can_build_the_view(path: str) -> bool:
    try:
        usage = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "--size" in usage and "--perms" in usage


def isolation_warning() -> str | None:
    """What the user should know when the worker runs without a PID and network namespace,
    or without the seccomp filter."""
    if bwrap_path() is None:
        why = "is too old (it lacks --size and --perms)" if shutil.which("bwrap") else "is not installed"
        return (
            f"bubblewrap (bwrap) {why}: student code runs without a private PID namespace, "
            "network isolation or a private view of the disk; install a recent one "
            "(apt-get install bubblewrap)"
        )
    if not syscalls.available():
        return (
            "libseccomp is not installed: student code runs without the seccomp filter "
            "(kernel keys, ptrace, bpf, new namespaces stay callable); apt-get install libseccomp2"
        )
    return None


def worker_rlimits(limits: Limits, gpu: bool = False) -> dict[str, int]:
    """The resource limits a worker sets on itself, by the name of its option.

    A GPU worker gets no address-space limit (``memory_mb`` 0): CUDA reserves far more
    address space than it uses. ``watchdog.py`` limits its resident memory instead.
    """
    return {
        "memory_mb": 0 if gpu else limits.memory_mb,
        "cpu_seconds": int(limits.submission_seconds + limits.load_seconds + 10),
        "max_processes": limits.max_processes,
        "max_file_mb": limits.max_file_mb,
        "max_open_files": limits.max_open_files,
    }


def _command(
    call_fd: int,
    reply_fd: int,
    limits: Limits,
    home: str,
    hide: tuple[str, ...],
    gpu: bool = False,
    uid: int | None = None,
) -> list[str]:
    """``uid``: the worker's own, to drop to (the grader is root); None: keep the grader's."""
    rlimits = worker_rlimits(limits, gpu)
    # RLIMIT_NPROC counts every process of the uid: the grader's own, when the worker keeps it
    rlimits["max_processes"] += _process_count(uid if uid is not None else os.getuid())
    options = [arg for name, value in rlimits.items() for arg in (f"--{name.replace('_', '-')}", str(value))]
    worker = [
        sys.executable,
        "-I",
        str(WORKER_SCRIPT),
        "--call-fd",
        str(call_fd),
        "--reply-fd",
        str(reply_fd),
        *options,
        "--threads",
        str(limits.threads),
    ]
    if uid is not None:
        worker += ["--uid", str(uid)]
    bwrap = bwrap_path()
    if bwrap is None:
        return worker
    # home stays inside: the private /tmp (TMP_BYTES), never a folder on this machine's disk
    return [bwrap, *_bwrap_view(None, hide, gpu), "--", *worker]


def _process_count(uid: int) -> int:
    """Processes ``uid`` already runs: RLIMIT_NPROC counts them against the worker."""
    if not os.path.isdir(PROC):  # macOS: no /proc, and no RLIMIT_NPROC worth counting for
        return 0
    count = 0
    for entry in os.listdir(PROC):
        if entry.isdigit():
            try:
                count += os.stat(os.path.join(PROC, entry)).st_uid == uid
            except OSError:
                pass
    return count


def _bwrap_view(home: str | None, hide: tuple[str, ...], gpu: bool = False) -> list[str]:
    """The worker's world: the system (``SYSTEM_PATHS``), its Python and the sandbox's child
    folder, read-only; a private /tmp of ``TMP_BYTES``; no network; its own PID and IPC
    namespaces (SysV shared memory and message queues die with it). The course's secrets
    (``hide``) are simply not there, unless they live inside what is bound (a course under
    /usr): those are covered by empty folders. Only those: a cover shows its path in the
    worker's mount table, and submission folders are often named after students.
    ``home``: a folder of this machine to bind and work in (None: the private /tmp).
    A GPU worker also sees the NVIDIA device files, which a minimal /dev lacks, and the
    folders on ``LD_LIBRARY_PATH`` outside the system view, where a CUDA driver may live."""
    args = [*_system_view(), "--dev", "/dev", "--proc", "/proc"]
    args += ["--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    if gpu:
        args += [arg for node in _gpu_device_files() for arg in ("--dev-bind", node, node)]
    readable = readable_paths(gpu)
    for path in readable:
        args += _readable_bind(path)
    covered = [h for h in hide if any(_within(h, shown) for shown in (*SYSTEM_PATHS, *readable))]
    for path in covered:
        args += ["--tmpfs", path]
    for path in readable:  # a virtual environment, or dlgrade itself, inside a covered folder
        if any(_within(path, h) for h in covered):
            args += _readable_bind(path)
    args += ["--bind", home, home, "--chdir", home] if home else ["--chdir", "/tmp"]
    # read-only from here: under an unprivileged bwrap the root and /dev are tmpfs of the
    # grader's own uid, writable up to half the machine's memory (/dev/shm, /home, /x)
    args += ["--remount-ro", "/dev", "--remount-ro", "/"]
    args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent", "--new-session"]
    return args


def readable_paths(gpu: bool = False) -> list[str]:
    """What a worker must read besides the system: its Python, the sandbox's child folder and,
    on a GPU, ``LD_LIBRARY_PATH``'s folders outside the system view."""
    return [*_python_paths(), str(WORKER_SCRIPT.parent), *(_library_folders() if gpu else [])]


def paths_in_tmp(paths: list[str]) -> list[str]:
    """Those of ``paths`` inside /tmp, outermost only: a warm worker mounts a fresh /tmp
    over the view and must bind these back (a virtual environment, dlgrade in a CI clone)."""
    inside = sorted(p for p in paths if _within(p, "/tmp") and p != "/tmp")
    return [p for p in inside if not any(q != p and _within(p, q) for q in inside)]


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _system_view() -> list[str]:
    """``SYSTEM_PATHS`` that exist here, read-only; the merged-/usr links (/bin -> usr/bin) as links."""
    args = []
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _gpu_device_files() -> list[str]:
    """/dev/nvidia0, /dev/nvidiactl, /dev/nvidia-uvm, ...: what CUDA opens."""
    try:
        return sorted(f"/dev/{name}" for name in os.listdir("/dev") if name.startswith("nvidia"))
    except OSError:
        return []


def _python_paths() -> list[str]:
    """Folders the interpreter and its packages live in, which the worker must read."""
    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    paths = {p for p in paths if p and os.path.isdir(p)}
    return sorted(p for p in paths if not any(p.startswith(q + os.sep) for q in paths))


def _readable_bind(path: str) -> list[str]:
    """Bind ``path`` read-only where an unprivileged user can reach it: bwrap makes the
    folders above a bind 0700 (a Python in /root would be out of reach), so make them
    first, 0755 and empty, unless a system path already provides them."""
    system = [Path(s) for s in SYSTEM_PATHS]
    args = []
    for folder in list(reversed(Path(path).parents))[1:]:  # below /
        if not any(folder == s or s in folder.parents for s in system):
            args += ["--perms", "0755", "--dir", str(folder)]
    return [*args, "--ro-bind", path, path]


def _environment(home: str, gpu: bool = False) -> dict[str, str]:
    """A small, explicit environment: nothing of the grader's own leaks in, except, for a
    GPU worker, what CUDA needs to find the same GPUs (``GPU_ENVIRONMENT``)."""
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }
    if gpu:
        environment.update({name: os.environ[name] for name in GPU_ENVIRONMENT if name in os.environ})
    return environment


def _library_folders() -> list[str]:
    """``LD_LIBRARY_PATH``'s folders outside the system view (a driver in /opt/nvidia, say)."""
    folders = [f for f in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if os.path.isabs(f)]
    outside = [f for f in folders if not any(_within(f, system) for system in SYSTEM_PATHS)]
    return [f for f in dict.fromkeys(outside) if os.path.isdir(f)]


class Channel:
    """The trusted side of one worker's pipes: requests, replies with deadlines, capped output.

    Subclasses say how the worker ends: ``_exit_code`` and ``kill``.
    """

    death_note = ""  # why the trusted side killed the worker, if it did (e.g. memory)
    server_lost = False  # the process that started the worker is gone: its status is unknowable

    def __init__(self, limits: Limits, call_write: int, reply_read: int, output):
        self.limits = limits
        self.output = CappedOutput(limits.max_output_bytes, bytearray())
        self._call_write, self._reply_read = call_write, reply_read
        self._stream = output
        self._drain = threading.Thread(target=self._drain_output, daemon=True)
        self._drain.start()

    def _drain_output(self) -> None:
        while chunk := self._stream.read1(65536):
            self.output.add(chunk)

    def _await_ready(self) -> None:
        try:
            self._read(time.monotonic() + READY_SECONDS)
        except WorkerError as exc:
            self.kill()
            tail = self.output.text()[-2000:]
            raise WorkerDied(f"the worker did not start ({exc}): {tail}") from None

    cpu_used = 0.0
    """Seconds the last request cost: CPU time of the worker's processes, or wall-clock time
    where that cannot be read."""

    def request(self, message: dict, timeout: float) -> dict:
        """Send one request; kill the worker if it spends ``timeout`` seconds of CPU time on it,
        or ``limits.wall_factor`` times that on the clock (it waits instead of computing).

        CPU time is what the work costs, however busy the machine is: on a loaded machine a
        wall-clock limit fails correct work. Where the worker's CPU time cannot be read, the
        limit is ``timeout`` seconds on the clock, as it used to be.
        """
        if timeout <= 0:
            raise WorkerTimeout("no time left")
        started, cpu_before = time.monotonic(), self.cpu_seconds()
        self.cpu_used = 0.0
        try:
            wire.write_frame(self._call_write, message)
        except (BrokenPipeError, OSError):
            raise self._died() from None
        try:
            if cpu_before is None:
                return self._read(started + timeout)
            deadline = started + timeout * self.limits.wall_factor
            self._await_reply(cpu_before, timeout, deadline)
            return self._read(deadline)
        finally:
            self._account(started, cpu_before)

    def _account(self, started: float, cpu_before: float | None) -> None:
        """Set ``cpu_used``; a worker already gone keeps the last reading ``_await_reply`` took."""
        if cpu_before is None:
            self.cpu_used = time.monotonic() - started
            return
        cpu_after = self.cpu_seconds()
        if cpu_after is not None:
            self.cpu_used = max(self.cpu_used, cpu_after - cpu_before)

    def _await_reply(self, cpu_before: float, cpu_seconds: float, deadline: float) -> None:
        """Wait until the reply starts (or the worker hangs up); kill it past either limit."""
        while not _readable(self._reply_read, min(CPU_POLL_SECONDS, deadline - time.monotonic())):
            used = self.cpu_seconds()
            if used is not None:
                self.cpu_used = used - cpu_before
            if self.cpu_used >= cpu_seconds:
                self.kill()
                raise WorkerTimeout(f"it used {cpu_seconds:g} s of CPU time without answering")
            if time.monotonic() >= deadline:
                self.kill()
                raise WorkerTimeout("no answer before the wall-clock deadline", wall_clock=True)

    def cpu_seconds(self) -> float | None:
        """CPU time the worker's processes have used so far; None where it cannot be read."""
        root = self._tree_root()
        return tree_cpu_seconds(root) if root is not None else None

    def _tree_root(self) -> int | None:
        """The pid (as seen here) whose process tree is the worker's; None if unknown."""
        return None

    def _read(self, deadline: float) -> dict:
        try:
            return wire.read_reply(self._reply_read, deadline)
        except wire.WireTimeout:
            self.kill()
            raise WorkerTimeout("no answer before the deadline", wall_clock=True) from None
        except wire.WireClosed:
            raise self._died() from None
        except wire.WireError as exc:
            self.kill()
            raise WorkerDied(f"the worker broke the protocol ({exc})") from None

    def _died(self) -> WorkerDied:
        """Why the worker is gone, from its real exit status (waited for before any kill of ours)."""
        code = self._exit_code(timeout=EXIT_SECONDS)
        self.kill()
        if self.death_note:
            return WorkerDied(f"the worker was killed: {self.death_note}")
        if self.server_lost:
            return WorkerDied("the fork server the worker came from was lost", outside=True)
        if code is None:
            return WorkerDied(f"the worker closed its reply pipe and did not exit within {EXIT_SECONDS:g} s")
        killer = _signal_of(code)
        if killer == signal.SIGKILL:  # dlgrade had sent nothing: not the student's code either
            return WorkerDied(
                "the worker was killed by SIGKILL from outside dlgrade (another process, "
                "or the machine ran out of memory)",
                outside=True,
            )
        if killer is not None:
            return WorkerDied(f"the worker was killed by {killer.name}")
        return WorkerDied(f"the worker exited with code {code}")

    def _exit_code(self, timeout: float) -> int | None:
        raise NotImplementedError

    @property
    def alive(self) -> bool:
        raise NotImplementedError

    def kill(self) -> None:
        raise NotImplementedError

    def _close_pipes(self) -> None:
        for fd in (self._call_write, self._reply_read):
            try:
                os.close(fd)
            except OSError:
                pass
        self._call_write = self._reply_read = -1
        self._drain.join(timeout=1)  # a setsid'd orphan may hold the pipe without bwrap
        if not self._drain.is_alive():
            self._stream.close()


def _readable(fd: int, timeout: float) -> bool:
    """Whether ``fd`` has data or a hang-up within ``timeout`` seconds."""
    return bool(select.select([fd], [], [], max(timeout, 0))[0])


def _signal_of(code: int) -> signal.Signals | None:
    """The signal that ended a worker: a negative status, or bubblewrap's 128 + N for a
    sandboxed child killed by signal N."""
    number = -code if code < 0 else code - 128 if 128 < code < 128 + signal.NSIG else None
    try:
        return signal.Signals(number) if number is not None else None
    except ValueError:
        return None


class WorkerProcess(Channel):
    """A cold worker: a fresh interpreter (under bwrap) that imports torch itself.

    ``gpu``: a worker for CUDA: it sees the GPUs, has no RLIMIT_AS, and a watchdog on
    the trusted side kills it when its resident memory passes ``limits.memory_mb``.
    GPU workers are always cold: a fork of a process that may touch CUDA is unsafe.
    """

    def __init__(self, limits: Limits, hide: tuple[str, ...] = (), gpu: bool = False):
        # Without bwrap, the worker's home is this folder; under bwrap it is only where bwrap
        # starts, and the worker's home is its private /tmp, gone with it.
        self._home = tempfile.mkdtemp(prefix="dlgrade-worker-")
        self.uid = next_worker_uid() if os.getuid() == 0 else None  # a uid of its own (uids.py)
        if self.uid is not None:
            os.chown(self._home, self.uid, self.uid)
        call_read, call_write = os.pipe()
        reply_read, reply_write = os.pipe()
        self._proc = subprocess.Popen(
            _command(call_read, reply_write, limits, self._home, hide, gpu, self.uid),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(call_read, reply_write),
            cwd=self._home,
            env=_environment(self._home if bwrap_path() is None else "/tmp", gpu),
            start_new_session=True,
        )
        os.close(call_read)
        os.close(reply_write)
        self._memory_mb = limits.memory_mb
        self._watchdog = MemoryWatchdog(self._proc.pid, limits.memory_mb, self._over_memory) if gpu else None
        super().__init__(limits, call_write, reply_read, self._proc.stdout)
        self._await_ready()

    def _over_memory(self, used_mb: float) -> None:
        self.death_note = f"it held {used_mb:.0f} MB of memory, over the limit of {self._memory_mb} MB"
        self._kill_group()

    def _tree_root(self) -> int | None:
        return self._proc.pid

    def _exit_code(self, timeout: float) -> int | None:
        try:
            return self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def kill(self) -> None:
        """Kill the worker's whole process group; its PID namespace takes the rest."""
        if self._watchdog is not None:
            self._watchdog.stop()
        self._kill_group()
        self._proc.wait()
        self._close_pipes()
        shutil.rmtree(self._home, ignore_errors=True)

    def _kill_group(self) -> None:
        if self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
