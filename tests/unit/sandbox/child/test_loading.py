"""How the worker loads a notebook's code: definitions and what graded code needs,
magics neutralised, and one broken cell or statement costing only itself. These are pure
functions of the worker, tested in-process."""

import sys

import pytest

from grader.sandbox.child import worker  # noqa: F401  (puts the sandbox folder on sys.path)

loading = sys.modules["loading"]  # the modules as the worker imports them, from its own folder
magics = sys.modules["magics"]
neutralise_magics = magics.neutralise_magics


def load(cells, mode, namespace, **plan):
    """Load ``cells`` as the worker does; the notes, what was defined and why names were not."""
    loaded = loading.load(cells, loading.Plan(mode=mode, **plan), namespace)
    defined = sorted(name for name in namespace if not name.startswith("__"))
    return {"defined": defined, "notes": loaded.notes, "unbound": loaded.unbound}


def test_magics_and_shell_escapes_become_pass_and_keep_indentation():
    source, changed = neutralise_magics("%matplotlib inline\nif True:\n    !pip install torch\nx = 1")
    assert changed
    compile(source, "<cell>", "exec")
    assert "pip" not in source and source.endswith("x = 1")


def test_a_cell_magic_skips_the_whole_cell():
    assert neutralise_magics("%%bash\ndef f(): pass") == (None, True)


def test_time_and_capture_cells_run_their_body_as_jupyter_does():
    namespace = {}
    cells = ["%%time\ndef train():\n    return 'trained'", "\n%%capture out\nLR = 0.5"]
    load(cells, "definitions", namespace)
    assert namespace["train"]() == "trained" and namespace["LR"] == 0.5
    assert namespace["train"].__code__.co_firstlineno == 2  # line numbers stay the notebook's


def test_a_graded_name_lost_to_a_cell_that_does_not_parse_is_explained():
    report = load(
        ["import torch", "def relu(z):\n    return z.clamp(min=0\n\ndef tanh(z):\n    pass"],
        "definitions",
        {},
        graded=("relu", "tanh"),
    )
    why = "cell 2 defines it, but that cell does not parse: SyntaxError"
    assert report["unbound"]["relu"].startswith(why)
    assert "tanh" in report["unbound"]


def test_definitions_mode_runs_definitions_and_skips_experiments():
    namespace = {}
    cells = [
        "import math\nLR = 0.1\nACTS = {'a': 1}\ndef f(x):\n    return x\nclass C:\n    pass",
        "print('hi')\nmodel = train()\nwhile True:\n    pass",
    ]
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
    load(
        ["try:\n    import nothing_here\nexcept ImportError:\n    nothing_here = None"],
        "definitions",
        namespace,
    )
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


# --------------------------------------------------------------------------- what graded code needs

IMPORTS = "import torch\nfrom torch import nn"
ACTIVATIONS = "def relu(z):\n    return z.clamp(min=0)"
TABLES = """ACTS = {"relu": relu, "sigmoid": lambda z: torch.sigmoid(z)}
BY_KEYWORD = dict(relu=relu)
criterion = nn.CrossEntropyLoss()
EPS = torch.tensor(1e-8)
ACTS["tanh"] = torch.tanh"""
GRADED = """def forward(z, activation="relu"):
    return ACTS[activation](z) + BY_KEYWORD["relu"](z) * 0


def loss(logits, y, eps=EPS):
    return criterion(logits, y) + 0 * eps"""
EXPERIMENT = """model = train(forward)
plt.plot(model)
for epoch in range(10**9):
    history = train(model)"""


def test_top_level_statements_graded_functions_need_run_even_if_they_call_something():
    namespace = {}
    report = load(
        [IMPORTS, ACTIVATIONS, TABLES, GRADED, EXPERIMENT],
        "definitions",
        namespace,
        graded=("forward", "loss", "relu"),
    )
    assert namespace["forward"](namespace["torch"].tensor([-1.0, 2.0]), "tanh").tolist()[1] > 0.96
    assert float(namespace["loss"](namespace["torch"].zeros(2, 3), namespace["torch"].tensor([0, 1]))) > 1
    assert "model" not in namespace and "history" not in namespace  # the experiment stayed skipped
    assert any("3 top-level statement(s) that are not definitions were not run" in n for n in report["notes"])
    assert any("were run because graded functions use what they bind" in n for n in report["notes"])


def test_a_local_name_in_a_graded_function_does_not_pull_in_a_top_level_experiment():
    cells = ["def fit(x):\n    model = [v * 2 for v in x]\n    return model", "model = train_for_an_hour()"]
    namespace = {}
    report = load(cells, "definitions", namespace, graded=("fit",))
    assert namespace["fit"]([1]) == [2]
    assert not any("NameError" in note for note in report["notes"])  # train_for_an_hour was never called


def test_dependencies_count_through_helpers_decorators_and_classes():
    cells = [
        "SCALE = float(2)",
        "def helper(x):\n    return x * SCALE",
        "REGISTRY = dict()\ndef register(f):\n    REGISTRY[f.__name__] = f\n    return f",
        "class Layer:\n    def __call__(self, x):\n        return helper(x)",
        "@register\ndef graded(x):\n    return Layer()(x)",
        "unused = float(7)",
    ]
    namespace = {}
    load(cells, "definitions", namespace, graded=("graded",))
    assert namespace["graded"](3) == 6 and "graded" in namespace["REGISTRY"]
    assert "unused" not in namespace


def test_without_a_list_of_graded_names_every_function_of_the_notebook_counts():
    namespace = {}
    load([IMPORTS, ACTIVATIONS, TABLES, GRADED, EXPERIMENT], "definitions", namespace)
    assert "ACTS" in namespace and "criterion" in namespace and "model" not in namespace


def test_needed_code_runs_within_a_time_budget_and_the_rest_still_loads():
    cells = [
        "def slow():\n    while True:\n        pass",
        "TABLE = slow()",
        "def graded():\n    return TABLE",
    ]
    namespace = {}
    report = load(cells, "definitions", namespace, graded=("graded",), seconds=0.3)
    assert "graded" in namespace and "TABLE" not in namespace
    assert any(note.startswith("cell 2, line 1: was stopped") for note in report["notes"])
    with pytest.raises(NameError) as caught:
        namespace["graded"]()
    message = loading.explain(caught.value, report["unbound"])
    assert "cell 2, line 1 (`TABLE = slow()`) sets it, but was stopped" in message


def test_a_name_error_for_a_skipped_statement_names_it_and_why_in_the_reply(monkeypatch):
    """What the student reads in the test's message: the statement, where, and why it did not run.
    (``eval`` hides the use from the reading that decides what runs.)"""
    cells = ["def predict(x):\n    return x + eval('offset')", "offset = compute_offset()"]
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])  # a Worker takes __main__ over
    server = worker.Worker()
    server.load({"cells": cells, "mode": "definitions", "graded": ["predict"], "given": []})
    reply = server.handle({"op": "call", "target": {"name": "predict"}, "args": [1]})
    assert reply["error"]["type"] == "NameError"
    why = "cell 2, line 1 (`offset = compute_offset()`) sets it, but was not run"
    assert why in reply["error"]["message"]
    missing = server.handle({"op": "call", "target": {"name": "offset"}, "args": []})
    assert "cell 2, line 1" in missing["error"]["message"]


def test_run_all_still_runs_every_statement():
    namespace = {}
    load(["def f():\n    return 1", "x = [f() for _ in range(3)]"], "all", namespace, graded=("f",))
    assert namespace["x"] == [1, 1, 1]


# --------------------------------------------------------------------------- given code

HANDOUT = (
    "import torch",
    "def dense(x, W, b):\n    return x * W + b\n\n\ndef relu(z):\n    return z.clamp(min=0)",
    "class Optimizer:\n    def step(self):\n        return 'stepped'",
    "x = torch.randn(3)\nprint(dense(x, x, x))",  # the handout's experiment: never run for a student
)


def test_given_code_stands_in_for_what_the_notebook_lacks_and_never_for_what_it_has():
    cells = [
        "def relu(z):\n    return z * (z > 0)",
        "def layer(x, W, b):\n    return relu(dense(x, W, b))",
        "class SGD(Optimizer):\n    pass",
    ]
    namespace = {}
    report = load(cells, "definitions", namespace, graded=("dense", "relu", "layer", "SGD"), given=HANDOUT)
    assert namespace["layer"](-1.0, 2.0, 0.5) == 0 and namespace["SGD"]().step() == "stepped"
    assert namespace["relu"].__code__.co_filename == "<cell 1>"  # the student's own
    assert namespace["dense"].__code__.co_filename == "<handout cell 2>"
    assert "x" not in namespace
    note = next(n for n in report["notes"] if "handout's given code" in n)
    assert "Optimizer, dense" in note and "relu" not in note


def test_a_notebook_with_the_given_code_gets_no_note():
    cells = [*HANDOUT[:3], "def layer(x, W, b):\n    return relu(dense(x, W, b))"]
    report = load(cells, "definitions", {}, graded=("dense", "relu", "layer"), given=HANDOUT)
    assert not any("handout" in note for note in report["notes"])


# --------------------------------------------------------------------------- newer Python


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this Python reads 3.12 syntax")
@pytest.mark.parametrize(
    "cell, construct",
    [
        ('row = {"name": "a"}\nlabel = f"{row["name"]}!"', "f-string that reuses its quotes"),
        ("print(f\"{'\\n'.join(['a', 'b'])}\")", "holds a backslash"),
        ("type Vector = list[float]", "`type X = ...` alias"),
        ("def first[T](xs: list[T]) -> T:\n    return xs[0]", "type parameters"),
        ("class Box[T]:\n    pass", "type parameters"),
    ],
)
def test_syntax_from_a_newer_python_is_named_with_the_graders_version(cell, construct):
    report = load(["def ok():\n    return 1", cell], "definitions", {})
    note = next(note for note in report["notes"] if note.startswith("cell 2"))
    assert construct in note and "needs Python 3.12 or later" in note
    assert f"the grader runs Python {'.'.join(map(str, sys.version_info[:3]))}" in note


def test_newer_constructs_are_named_only_where_this_python_lacks_them():
    construct = sys.modules["newer_syntax"].newer_construct
    unparenthesised = ("except ValueError, TypeError:", "multiple exception types must be parenthesized")
    assert "PEP 758" in construct(*unparenthesised, (3, 13)).what
    assert construct(*unparenthesised, (3, 14)) is None
    assert "PEP 750" in construct("greeting = t'hi {name}'", "invalid syntax", (3, 12)).what
    assert construct("type Vector = list[float]", "invalid syntax", (3, 12)) is None


def test_an_ordinary_syntax_error_is_not_blamed_on_python_versions():
    report = load(["def f(:\n    pass", "x = f'{}'"], "definitions", {})
    assert len(report["notes"]) == 2 and not any("needs Python" in note for note in report["notes"])


def test_a_table_filled_by_a_top_level_loop_is_filled_when_graded_code_reads_it():
    cells = [
        "def relu(z):\n    return max(z, 0)",
        "ACTS = {}\nfor f in [relu, abs]:\n    ACTS[f.__name__] = f",
        "def forward(z, activation):\n    return ACTS[activation](z)",
        "history = {'loss': []}\nfor epoch in range(10**9):\n    history['loss'].append(train())",
    ]
    namespace = {}
    load(cells, "definitions", namespace, graded=("forward",))
    assert namespace["forward"](-2, "abs") == 2 and namespace["forward"](-2, "relu") == 0
    assert namespace["history"] == {"loss": []}  # its loop changes nothing graded code reads
