"""What a worker's process tree uses (resident memory, CPU time), and a memory limit for
workers that cannot have RLIMIT_AS: GPU workers.

CUDA reserves tens of gigabytes of virtual address space when it starts, so an
address-space limit that still lets a GPU worker run would not limit anything.
Instead the trusted side reads the resident memory (RSS) of the worker's whole
process tree every ``POLL_SECONDS`` and kills the tree when it goes over the
limit; the test then fails with a message that says so.

A watchdog that polls can be outrun by an allocation faster than its period; the
kernel's OOM killer remains the last resort. GPU memory is not counted here: it is
the device's, and a worker that exhausts it gets CUDA's out-of-memory error.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

POLL_SECONDS = 0.2
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
HAS_CHILDREN_FILES = os.path.exists(f"/proc/self/task/{os.getpid()}/children")


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and every process below it, in MiB (0 when gone)."""
    pages = sum(int(fields[21]) for fields in map(_stat, tree_pids(root)) if fields)  # field 24: RSS
    return pages * PAGE_BYTES / 2**20


def tree_cpu_seconds(root: int) -> float | None:
    """CPU time (user and system, every thread) that ``root`` and the processes below it have
    used, those already reaped included; None when ``root`` is gone."""
    ticks = [sum(map(int, fields[11:15])) for fields in map(_stat, tree_pids(root)) if fields]
    return sum(ticks) / CLOCK_TICKS if ticks else None  # fields 14-17: utime stime cutime cstime


def tree_pids(root: int) -> list[int]:
    """``root`` and every process below it (``/proc/PID/task/TID/children``; the whole of
    /proc where the kernel lacks those files)."""
    if not HAS_CHILDREN_FILES:
        return _tree_from_parents(root)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            todo += _children(pid)
        except OSError:
            pass  # gone meanwhile
    return found


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as listing:
            children += map(int, listing.read().split())
    return children


def _tree_from_parents(root: int) -> list[int]:
    """``tree_pids`` by reading every process's parent: slower, for kernels without children files."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        fields = _stat(int(entry)) if entry.isdigit() else None
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry))  # field 4: the parent
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _stat(pid: int) -> list[bytes] | None:
    """``/proc/PID/stat`` split after the command name (so field N is ``[N - 3]``); None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None


def pid_in_namespace(root: int, inner_pid: int) -> int | None:
    """The pid, as this process sees it, of the process below ``root`` that a PID namespace
    one level down calls ``inner_pid`` (a warm worker, as its fork server names it)."""
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/status") as status:
                line = next((row for row in status if row.startswith("NSpid:")), "")
        except OSError:
            continue
        levels = line.split()[1:]  # this namespace's pid first, the worker's own (1) last
        if len(levels) >= 3 and levels[-1] == "1" and int(levels[-2]) == inner_pid:
            return pid
    return None


class MemoryWatchdog:
    """Calls ``on_exceeded(mb)`` once if the tree under ``root`` holds more than ``limit_mb``."""

    def __init__(self, root: int, limit_mb: int, on_exceeded: Callable[[float], None]):
        self.root = root
        self.limit_mb = limit_mb
        self._on_exceeded = on_exceeded
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="dlgrade-memory-watchdog")
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            used = tree_rss_mb(self.root)
            if used > self.limit_mb:
                self._on_exceeded(used)
                return

    def stop(self) -> None:
        self._stop.set()
