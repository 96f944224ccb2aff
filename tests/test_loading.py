"""How the worker loads a notebook's code: definitions only by default, magics
neutralised, and one broken cell or statement costing only itself. These are pure
functions of the worker, tested in-process."""

import sys

from grader.sandbox import worker  # noqa: F401  (puts the sandbox folder on sys.path)
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
