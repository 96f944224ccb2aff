"""A memory limit for workers that cannot have RLIMIT_AS: GPU workers.

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


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and every process below it, in MiB (0 when gone)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)  # field 4: the parent
        rss[pid] = int(fields[21])  # field 24: resident pages
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total * PAGE_BYTES / 2**20


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
