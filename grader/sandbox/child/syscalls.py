"""The last walls a worker puts up before student code runs: a keyring and a seccomp filter.

Imported by the worker as ``syscalls`` (from its own folder, as it imports ``wire``) and
by the trusted side as ``grader.sandbox.child.syscalls``, which asks ``available()``.

**Keyrings.** The kernel's key store is not a file, so no view of the disk hides it, and
a process inherits its parent's session keyring across fork, exec, setuid and every
namespace dlgrade makes. A worker started from an instructor's login could read the keys
that login stored (a token, a password), and a key a worker added could be read back by
a later one. ``join_fresh_session_keyring`` gives the worker an empty, anonymous session
keyring of its own, and the filter below then refuses every key system call.

**The filter** follows Docker's default seccomp profile (moby's
``profiles/seccomp/default.json``, the profile most containers run under): what that
profile refuses to a container without extra capabilities, the worker is refused too,
with ``EPERM``. It is a deny list on top of an allowed default, because a grader runs
whatever PyTorch and NumPy do; the calls below are those no grading ever makes and that
attacks on the kernel, the grader or the next student need. ``docs/security.md`` has
the list with the reason for each group. Built with libseccomp (through ``pyseccomp``),
never by hand: libseccomp knows each architecture's numbers and checks the filter.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os

# fmt: off
DENIED = (
    # the kernel's key store: secrets of the grader's login, and a channel between workers
    "keyctl", "add_key", "request_key",
    # inspecting or changing other processes, and reading their memory
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # kernel attack surface that no grading needs
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    # new namespaces (also as clone flags, below): a user namespace gives back capabilities
    "unshare", "setns",
    # mounts, old and new API, and changing the root
    "mount", "umount", "umount2", "pivot_root", "chroot", "mount_setattr", "move_mount",
    "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
    # files by handle bypass the view (the "shocker" container escape)
    "name_to_handle_at", "open_by_handle_at",
    # the kernel itself: modules, kexec, reboot, swap, accounting, quotas, clocks, I/O ports
    "init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms",
    "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
    "settimeofday", "clock_settime", "clock_adjtime", "stime", "iopl", "ioperm", "syslog",
    "lookup_dcookie", "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl", "vhangup",
    "vm86", "vm86old", "fanotify_init",
)
# fmt: on
"""Refused with EPERM. Names this architecture lacks (``vm86`` on x86-64) are skipped."""

# fmt: off
NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000, "CLONE_NEWTIME": 0x00000080,
}
# fmt: on
"""``clone`` with any of these is refused; a plain fork or thread is not."""

KEYCTL_JOIN_SESSION_KEYRING = 1


@functools.lru_cache(maxsize=1)
def _pyseccomp():
    """pyseccomp, or None where libseccomp is missing (macOS, a minimal container)."""
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError):  # RuntimeError: "Unable to find libseccomp"
        return None
    return pyseccomp


def available() -> bool:
    """Whether workers on this machine get the filter (Linux with libseccomp)."""
    return _pyseccomp() is not None


@functools.lru_cache(maxsize=1)
def build_filter():
    """The filter, built once (a fork server builds it before it forks any worker)."""
    seccomp = _pyseccomp()
    denied = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    # every thread, including those torch started before the filter (no thread is spared)
    rules.set_attr(seccomp.Attr.CTL_TSYNC, 1)
    # another ABI's numbers (32-bit calls from a 64-bit process) are refused, not let through
    rules.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.ERRNO(errno.ENOSYS))
    for name in DENIED:
        if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) >= 0:
            rules.add_rule(denied, name)
    for flag in NAMESPACE_FLAGS.values():
        rules.add_rule(denied, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    # clone3 passes its flags in memory, which a filter cannot read; ENOSYS makes glibc
    # fall back to clone, whose flags it can (what Docker does too)
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    return rules


def join_fresh_session_keyring() -> None:
    """Leave the grader's session keyring for a new, empty, anonymous one.

    A kernel without keys (ENOSYS), or a container whose own filter refuses the call
    (EPERM), has no keyring the worker could reach either.
    """
    seccomp = _pyseccomp()
    if seccomp is None:
        return
    number = seccomp.resolve_syscall(seccomp.Arch.NATIVE, "keyctl")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    if libc.syscall(ctypes.c_long(number), ctypes.c_long(KEYCTL_JOIN_SESSION_KEYRING), None) < 0:
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EPERM):
            raise OSError(code, f"keyctl(JOIN_SESSION_KEYRING): {os.strerror(code)}")


def lock_down() -> None:
    """A keyring of its own, then the filter: the last step before student code runs.

    The filter also sets no_new_privs, so no set-uid program in the view (su, mount,
    bwrap) gives a worker back what it gave up.
    """
    join_fresh_session_keyring()
    if available():
        build_filter().load()
