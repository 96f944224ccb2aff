"""Run a command as a real unprivileged user, with this Python within its reach.

    python tests/unprivileged.py -- python -m pytest tests/sandbox/test_forkserver.py

Most instructors are not root, but CI and these machines run as root, with Python in a
folder only root may enter (pyenv under /root, mode 0700). ``as_user`` builds a command
that, in a mount namespace of its own (nothing changes for the rest of the machine):

1. covers each folder above this Python that others may not enter with an empty,
   world-readable tmpfs, and binds the Python's own folder back at its own path, so
   that ``sys.prefix`` and every path in it stay what they are;
2. drops to ``USER`` with ``setpriv``: a real uid, no capabilities, no groups, as an
   instructor's login has them. Everything after that is what a non-root user gets.

Needs root, ``unshare`` and ``setpriv`` (util-linux) and ``useradd``; ``why_not()`` says
which is missing, for a test's skip reason.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

USER = "dlgrade-nonroot"


def why_not() -> str | None:
    """Why this machine cannot run a command as an unprivileged user; None if it can."""
    if os.getuid() != 0:
        return "only root can start a command as another user (run the tests as root too)"
    for tool in ("unshare", "setpriv", "useradd"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (util-linux, passwd)"
    return None


def ensure_user(name: str = USER) -> pwd.struct_passwd:
    """The unprivileged user, created (no home, no login shell) the first time."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)


def as_user(command: list[str], home: str, user: str = USER) -> list[str]:
    """``command`` as ``user``, with ``home`` as its HOME, and this Python reachable."""
    account = ensure_user(user)
    script = ["set -e", *_reach_python()]
    environment = {"HOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    drop = [
        "setpriv",
        f"--reuid={account.pw_uid}",
        f"--regid={account.pw_gid}",
        "--clear-groups",
        "env",
        "-i",
        *(f"{k}={v}" for k, v in environment.items()),
        *command,
    ]
    script.append("exec " + shlex.join(drop))
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script)]


def _reach_python() -> list[str]:
    """Shell lines that make every folder of this Python, and the folder we run in (a clone
    under ``mktemp -d``), reachable by any user. Every folder is put aside before any closed
    folder is covered: a venv and a clone may sit under the same closed ``mktemp -d`` folder."""
    stashes, covers = {}, set()
    for folder in sorted({os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, os.getcwd())}):
        blocked = _first_closed_folder_above(Path(folder))
        if blocked is not None:
            stashes[folder] = tempfile.mkdtemp(prefix="dlgrade-python-")
            covers.add(str(blocked))
    q = shlex.quote
    return [
        *(f"mount --bind {q(folder)} {q(stash)}" for folder, stash in stashes.items()),
        *(f"mount -t tmpfs -o mode=0755 tmpfs {q(blocked)}" for blocked in sorted(covers)),
        *(
            f"mkdir -p {q(folder)} && mount --bind {q(stash)} {q(folder)}"
            for folder, stash in stashes.items()
        ),
    ]


def _first_closed_folder_above(folder: Path) -> Path | None:
    """The highest folder above ``folder`` that others may not enter (no o+x), if any."""
    for parent in reversed(folder.parents):
        if not os.stat(parent).st_mode & 0o001:
            return parent
    return None


def _is_this_python(program: str) -> bool:
    """Whether ``program`` (``python``, a pyenv shim, a venv's python) starts this very
    interpreter. A shim is a script under root's closed home that runs ``pyenv exec``: the
    user can reach the interpreter it ends in, not the shim, so the command names that."""
    if program == sys.executable:
        return False
    try:
        asked = subprocess.run(
            [program, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True, check=False
        )
    except OSError:
        return False
    same = os.path.realpath(asked.stdout.strip()) == os.path.realpath(sys.executable)
    return asked.returncode == 0 and same


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    reason = why_not()
    if reason is not None:
        print(f"cannot run as an unprivileged user: {reason}", file=sys.stderr)
        return 2
    home = tempfile.mkdtemp(prefix="dlgrade-nonroot-home-")
    account = ensure_user()
    os.chown(home, account.pw_uid, account.pw_gid)
    command = argv[argv.index("--") + 1 :]
    if command and _is_this_python(command[0]):
        command[0] = sys.executable  # not a shim or PATH lookup the user may not reach
    try:
        return subprocess.run(as_user(command, home), cwd=os.getcwd()).returncode
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
