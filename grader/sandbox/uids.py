"""A uid of its own for every worker, when the grader runs as root.

The kernel ties some state to a uid rather than to a process: the uid's keyring (keys
outlive every process of the uid), the count of its processes (RLIMIT_NPROC), and who
may signal or trace whom. Workers that shared a uid (every cold worker was 65534) could
leave each other keys and count each other's processes, across batches too.

So each grading process claims a block of ``BLOCK`` uids above ``FIRST_UID`` and hands
them out one per worker, cold or warm, never twice. A claim is an exclusive ``flock`` on
a file named after the block, held for the life of the process: two grading processes
on this machine (``--workers``, Dask workers, two batches at once) never hold the same
block, and a block is free again once its process is gone. A process that grades more
than ``BLOCK`` workers (a million) claims another block.
"""

from __future__ import annotations

import os
import tempfile
import threading
import types

fcntl: types.ModuleType | None  # None on Windows
try:
    import fcntl
except ImportError:  # Windows: never root, so no worker uids to hand out
    fcntl = None

FIRST_UID = 0x8000_0000
"""2**31: above the ranges distributions, systemd and container tools hand out."""
BLOCK = 1 << 20
BLOCKS = (0xFFFF_FFFF - FIRST_UID) // BLOCK
"""How many grading processes can hold a block at once (2047); (uid_t) -1 is never used."""

_lock = threading.Lock()
_claim: dict = {}  # pid -> (block, descriptor of the lock file, next offset)


def next_worker_uid() -> int:
    """A uid no other worker of this machine's grading has had since this process claimed it."""
    with _lock:
        pid = os.getpid()
        block, handle, offset = _claim.get(pid) or (*_claim_block(), 0)
        if offset == BLOCK:  # used up: claim another, then let this one go
            old = handle
            block, handle = _claim_block()
            os.close(old)
            offset = 0
        _claim.clear()  # a forked child drops its parent's claim: it holds no lock of its own
        _claim[pid] = (block, handle, offset + 1)
        return FIRST_UID + block * BLOCK + offset


def _claim_block() -> tuple[int, int]:
    """(block, descriptor of its lock file) of the first block no other process holds."""
    if fcntl is None:  # Windows: never root, so never here
        raise OSError("worker uids are handed out only where there is fcntl (POSIX)")
    folder = _lock_folder()
    for block in range(BLOCKS):
        # A bare descriptor, held while we live: a file object would warn when exit closes it.
        path = os.path.join(folder, f"block-{block}")
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            continue
        return block, handle
    raise OSError("every block of worker uids is held by a running grading process")


def _lock_folder() -> str:
    """Where the claims live: one folder for the whole machine, writable only by root."""
    for parent in ("/run", tempfile.gettempdir()):
        folder = os.path.join(parent, "dlgrade-uids")
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError:
            continue
        status = os.lstat(folder)
        if status.st_uid == 0 and not os.path.islink(folder) and status.st_mode & 0o022 == 0:
            return folder
    raise OSError("no folder for the claims of worker uids (/run/dlgrade-uids)")
