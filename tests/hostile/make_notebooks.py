"""Write the hostile a1 submissions used by ``tests/test_hostile.py``.

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

The markers below are what the test looks for (process command lines, forged files).
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REFERENCE = ROOT / "reference" / "a1" / "perceptron.py"

FORK_MARKER = "dlgrade-hostile-fork200"
FORGED_MARKER = "dlgrade-hostile-forged-results"
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
    for dotted in ("grader.testing", "grader.results", "grader.plugin", "pytest", "_pytest.outcomes"):
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

# --------------------------------------------------------------------------- an honest bug

SIGN_ZERO_IS_ONE = '''\
def sign(z: Tensor) -> Tensor:
    """-1 or 1 elementwise (bug: sign(0) is 1, not 0)."""
    return torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z))
'''


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
    }


def main() -> None:
    for name, nb in notebooks().items():
        nbformat.validate(nb)
        nbformat.write(nb, HERE / f"{name}.ipynb")
        print(f"wrote {HERE.name}/{name}.ipynb")


if __name__ == "__main__":
    main()
