"""How the worker loads a notebook's code: definitions only by default, magics
neutralised, and one broken cell or statement costing only itself. These are pure
functions of the worker, tested in-process."""

import sys

import pytest

from grader.sandbox import magics, worker  # noqa: F401  (puts the sandbox folder on sys.path)
from grader.sandbox.magics import neutralise_magics

load = sys.modules["grader.sandbox.worker"].load


def test_magics_and_shell_escapes_become_pass_and_keep_indentation():
    source, changed = neutralise_magics("%matplotlib inline\nif True:\n    !pip install torch\nx = 1")
    assert changed
    compile(source, "<cell>", "exec")
    assert "pip" not in source and source.endswith("x = 1")


def test_a_cell_magic_skips_the_whole_cell():
    assert neutralise_magics("%%time\ndef f(): pass") == (None, True)


def test_definitions_mode_runs_definitions_and_skips_experiments():
    namespace = {}
    cells = ["import math\nLR = 0.1\nACTS = {'a': 1}\ndef f(x):\n    return x\nclass C:\n    pass",
             "print('hi')\nmodel = train()\nwhile True:\n    pass"]  # fmt: skip
    report = load(cells, "definitions", namespace)
    assert {"math", "LR", "ACTS", "f", "C"} <= set(report["defined"])
    assert "model" not in namespace
    assert any("3 top-level statement(s)" in note for note in report["notes"])


def test_a_syntax_error_costs_only_its_cell_and_later_definitions_win():
    namespace = {}
    cells = ["def f():\n    return 1", "def g(:\n    pass", "def f():\n    return 2"]
    report = load(cells, "definitions", namespace)
    assert namespace["f"]() == 2 and "g" not in namespace
    assert any("cell 2: SyntaxError" in note for note in report["notes"])


def test_a_failing_statement_costs_only_itself():
    namespace = {}
    report = load(["import not_a_module_anywhere\ndef f():\n    return 1"], "definitions", namespace)
    assert namespace["f"]() == 1
    assert any("ModuleNotFoundError" in note for note in report["notes"])


def test_all_mode_runs_top_level_code():
    namespace = {}
    load(["x = sum([1, 2])"], "all", namespace)
    assert namespace["x"] == 3


def test_try_import_fallbacks_are_definitions():
    namespace = {}
    load(["try:\n    import nothing_here\nexcept ImportError:\n    nothing_here = None"], "definitions",
         namespace)  # fmt: skip
    assert namespace["nothing_here"] is None


# Real cells where a line starts with % or ! and is Python: black puts a long
# ``"..." % args`` on its own continuation line, and a comparison split in brackets
# starts its next line with ``!=``. Only the last cell holds magics.
BLACK_FORMATTED = """def train_loop(losses):
    lines = []
    for epoch, loss in enumerate(losses):
        lines.append(
            "epoch %d of %d, loss %.4f"
            % (epoch + 1, len(losses), loss)
        )
    return lines
"""
BACKSLASH_CONTINUED = """def report(epoch, loss):
    return "epoch %d loss %.3f" \\
% (epoch + 1, loss)
"""
IN_BRACKETS = """def count_errors(pred, y):
    return sum(int(pred[i]
                   != y[i]) for i in range(len(y)))
"""
IN_A_STRING = '''HELP = """
%matplotlib inline is a magic, in this string it is text
!ls too
"""
'''
REAL_MAGICS = """%matplotlib inline
!pip install torch \\
    numpy
files = !ls
elapsed = %time 1 + 1
HELP?
def later():
    return 42
"""


@pytest.fixture(params=["IPython", "scanner"])
def magic_reader(request, monkeypatch):
    """Both ways of finding magics: IPython's own reader, and the scanner used without IPython."""
    if request.param == "scanner":
        monkeypatch.setattr(magics, "_IPYTHON", None)
    assert magics.reader() == request.param
    return request.param


def test_percent_and_bang_continuation_lines_are_python_not_magics(magic_reader):
    namespace = {}
    report = load([BLACK_FORMATTED, BACKSLASH_CONTINUED, IN_BRACKETS, IN_A_STRING], "definitions", namespace)
    assert report["notes"] == []
    assert namespace["train_loop"]([0.5]) == ["epoch 1 of 1, loss 0.5000"]
    assert namespace["report"](0, 0.25) == "epoch 1 loss 0.250"
    assert namespace["count_errors"]([1, 2, 3], [1, 0, 3]) == 1
    assert "%matplotlib" in namespace["HELP"] and "!ls" in namespace["HELP"]


def test_magics_at_the_start_of_logical_lines_are_removed_and_lines_stay_put(magic_reader):
    source, changed = neutralise_magics(REAL_MAGICS)
    assert changed and len(source.splitlines()) == len(REAL_MAGICS.splitlines())
    assert "pip" not in source and "%time" not in source and "?" not in source
    namespace = {}
    load([REAL_MAGICS], "definitions", namespace)
    assert namespace["later"]() == 42
    assert namespace["later"].__code__.co_firstlineno == 7  # the line it has in the notebook


def test_the_ipython_reader_is_used_where_ipython_is_installed():
    pytest.importorskip("IPython")
    assert magics.reader() == "IPython"
