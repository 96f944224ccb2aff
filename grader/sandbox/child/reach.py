"""Let a worker that drops root still read its own Python, when a private folder is in the way.

pyenv and conda put Python in the user's home, and root's home is 0700: once a cold
worker without bubblewrap drops to its unprivileged uid, it can no longer read the
Python it runs on, and the first lazy import (``numpy.random`` while seeding) fails.
Bubblewrap's view solves this with folders of its own (``process._readable_bind``);
this module does the same without it, while the worker is still root:

    in a mount namespace of the worker's own, each folder that keeps the uid out
    (``/root``) is covered by an empty, root-owned 0755 tmpfs, and only what the
    worker needs (the Python, dlgrade's sandbox/child folder, its working folder) is bound
    back inside it, at the same path.

So the worker reaches its Python and nothing else of that folder: root's other files
stay out of sight, and no permission on the machine changes. Where no mount namespace
can be made (a container without CAP_SYS_ADMIN), nothing is changed and
``unreachable`` names what the worker cannot read, so that it refuses to start and
says why, rather than grading every submission as broken.

Plain standard library: the worker imports it from its own folder (``python -I``).
"""

from __future__ import annotations

import ctypes
import os
import stat

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000
COVER_OPTIONS = "size=1m,nr_inodes=1024,mode=0755"


def blocking_folders(paths: list[str], uid: int, gid: int) -> list[str]:
    """The outermost folders above ``paths`` that ``uid`` cannot pass through."""
    blocked = set()
    for path in paths:
        for folder in _folders_above(path):
            if not _can_pass(folder, uid, gid):
                blocked.add(folder)
                break
    return sorted(b for b in blocked if not any(o != b and _within(b, o) for o in blocked))


def make_reachable(paths: list[str], uid: int, gid: int) -> bool:
    """Cover the folders that keep ``uid`` from ``paths`` and bind ``paths`` back inside.

    Call as root, before dropping to ``uid``. Returns False when nothing was in the way
    or no mount namespace could be made (``unreachable`` then says what is missing).
    """
    blocked = blocking_folders(paths, uid, gid)
    if not blocked:
        return False
    try:
        _unshare_mounts()
    except OSError:
        return False
    held = hold([p for p in paths if any(_within(p, b) for b in blocked)])
    for folder in blocked:
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, COVER_OPTIONS)
    bind_back(held)
    return True


def hold(folders: list[str]) -> list[tuple[str, int]]:
    """Each folder and a descriptor that keeps it within reach after a mount hides its path."""
    return [(folder, os.open(folder, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)) for folder in folders]


def bind_back(held: list[tuple[str, int]]) -> None:
    """Bind each held folder at its own path again, with the mounts inside it (read-only
    binds, covers of hidden folders) as they were; folders above it are made root's, 0755,
    so an unprivileged worker can reach it and can neither remove nor replace it."""
    for folder, fd in held:
        _make_folders(folder)
        _mount(f"/proc/self/fd/{fd}", folder, None, MS_BIND | MS_REC, None)
        os.close(fd)


def unreachable(paths: list[str]) -> list[str]:
    """Those of ``paths`` this process cannot read (after dropping privileges)."""
    return [p for p in paths if not os.access(p, os.R_OK | (os.X_OK if os.path.isdir(p) else 0))]


def _folders_above(path: str) -> list[str]:
    """``/a/b/c`` -> ``["/a", "/a/b"]``: the folders one passes through to reach it."""
    parts = os.path.abspath(path).split(os.sep)[1:-1]
    return [os.sep + os.sep.join(parts[: i + 1]) for i in range(len(parts))]


def _can_pass(folder: str, uid: int, gid: int) -> bool:
    try:
        info = os.stat(folder)
    except OSError:
        return True  # not there: nothing to cover, and the import says what is missing
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == gid:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _make_folders(path: str) -> None:
    """``path`` and the folders above it that are missing, root's, 0755."""
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for folder in reversed(missing):
        os.mkdir(folder)
        os.chmod(folder, 0o755)


_libc = ctypes.CDLL(None, use_errno=True) if os.name == "posix" else None  # Windows: never root


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _posix_libc() -> ctypes.CDLL:
    """libc, for the mounts only root makes on Linux (never reached on Windows, never root)."""
    if _libc is None:
        raise OSError("no libc on this platform: mounts are made on Linux only")
    return _libc


def _unshare_mounts() -> None:
    _check(_posix_libc().unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)  # our covers stay ours


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    encoded = [s.encode() if s is not None else None for s in (source, target, fstype, data)]
    _check(_posix_libc().mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]), f"mount {target}")
