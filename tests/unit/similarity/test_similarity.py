"""dlgrade similarity: disguised copies are found, independent work and teammates are not."""

import csv
import random
import shutil
import sys

import nbformat
import pytest
from click.testing import CliRunner
from support import COURSE

from grader.course.course_file import CoursePolicy
from grader.intake.notebook import read_cells
from grader.similarity.cli import similarity
from grader.similarity.fingerprints import (
    Settings,
    compare,
    fingerprint,
    kgram_hashes,
    load_template,
    rarity_weights,
    winnow,
)
from grader.similarity.html import merge, render, segments
from grader.similarity.tokens import definitions, functions, parse_cells

TEMPLATE = COURSE / "assignments" / "a1" / "a1.ipynb"
A1 = frozenset({"weighted_sum", "sign", "sigmoid", "perceptron_predict", "perceptron_fit"})

ORIGINAL = [
    "import torch",
    "def weighted_sum(x, w, b):\n    return torch.matmul(x, w) + b",
    "def sign(z):\n    out = torch.zeros_like(z)\n    out[z > 0] = 1\n    out[z < 0] = -1\n    return out",
    "def sigmoid(z):\n    z = torch.clamp(z, -60, 60)\n    return 1.0 / (1.0 + torch.exp(-z))",
    "def perceptron_predict(x, w, b):\n    z = weighted_sum(x, w, b)\n    return sign(z)",
    """def perceptron_fit(x, y, lr=1.0, epochs=100):
    n, d = x.shape
    weights = torch.zeros(d, dtype=x.dtype, device=x.device)
    bias = torch.zeros((), dtype=x.dtype, device=x.device)
    epoch = 0
    while epoch < epochs:
        changed = False
        for xi, yi in zip(x, y):
            activation = torch.dot(xi, weights) + bias
            if yi * activation <= 0:
                weights += lr * yi * xi
                bias += lr * yi
                changed = True
        epoch += 1
        if not changed:
            break
    return weights, bias""",
]

# ORIGINAL with every disguise at once: names, literals, comments, docstrings, dead code, order.
DISGUISED = [
    "import torch as T",
    '''def perceptron_fit(inputs, targets, lr=0.5, epochs=10):
    """My own implementation of the perceptron rule."""
    n_samples, n_features = inputs.shape
    w = T.zeros(n_features, dtype=inputs.dtype, device=inputs.device)  # weights
    offset = T.zeros((), dtype=inputs.dtype, device=inputs.device)
    debug = False
    it = 0
    while it < epochs:
        any_change = False
        for sample, label in zip(inputs, targets):
            if False:
                print("never")
            act = (T.dot(sample, w) + offset)
            if label * act <= 0.0:
                w += lr * label * sample
                offset += lr * label
                any_change = True
        it += 1
        if not any_change:
            break
    return (w, offset)''',
    "def sigmoid(t):\n    # clip first\n    t = T.clamp(t, -50.0, 50.0)\n    return 1 / (1 + T.exp(-t))",
    """def sign(t):
    res = T.zeros_like(t)
    pass
    res[t > 0.0] = 1.0
    res[t < 0.0] = -1.0
    return res""",
    "def weighted_sum(a, v, c):\n    return T.matmul(a, v) + c",
    "def perceptron_predict(a, v, c):\n    s = weighted_sum(a, v, c)\n    return sign(s)",
]

INDEPENDENT = [
    "import torch",
    "def weighted_sum(x, w, b):\n    return (x * w).sum(dim=-1) + b",
    "def sign(z):\n    return (z > 0).to(z.dtype) - (z < 0).to(z.dtype)",
    "def sigmoid(z):\n    e = torch.exp(-z.abs())\n    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))",
    "def perceptron_predict(x, w, b):\n    return torch.sign(x @ w + b)",
    """def perceptron_fit(x, y, lr=1.0, epochs=100):
    w = torch.zeros_like(x[0])
    b = torch.zeros_like(w.sum())
    for epoch in range(epochs):
        mistakes = 0
        for idx in range(len(x)):
            if y[idx] * weighted_sum(x[idx], w, b) <= 0:
                w = w + lr * y[idx] * x[idx]
                b = b + lr * y[idx]
                mistakes = mistakes + 1
        if mistakes == 0:
            break
    return w, b""",
]


def notebook(folder, student, cells):
    path = folder / f"{student}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), path)
    return path


def tokens(cells, names=A1):
    return {f.name: " ".join(t.text for t in f.tokens) for f in functions(cells, names)}


@pytest.fixture(scope="module")
def template():
    return load_template(TEMPLATE, k=Settings().k)


def report_for(tmp_path, template, students, policy=None):
    policy = policy or CoursePolicy()
    prints = [
        fingerprint(name, p, read_cells(p), template=template)
        for name, cells in students.items()
        for p in [notebook(tmp_path, name, cells)]
    ]
    return compare(prints, assignment="a1", policy=policy, template=template)


# ----------------------------------------------------------------------------- normalising


def test_names_literals_comments_and_docstrings_do_not_change_the_tokens():
    plain = """def sign(z):
    s = (z > 0).float()
    return s - (z < 0).float()"""
    disguised = """def sign(t):
    'Mine.'
    out = (t > 0.0).float()  # positive

    return out - (t < 0).float()"""
    assert tokens([plain]) == tokens([disguised])
    expected = "def sign ( N ) : ; { N = N > L . float ( ) ; return N - N < L . float ( ) ; }"
    assert tokens([plain])["sign"] == expected


def test_the_library_called_is_kept_and_aliases_are_resolved():
    where = tokens(["import torch", "def relu(z):\n    return torch.where(z > 0, z, 0 * z)"], {"relu"})
    clamp = tokens(["import torch", "def relu(z):\n    return torch.clamp(z, min=0)"], {"relu"})
    aliased = tokens(["import torch as T", "def relu(z):\n    return T.clamp(z, min=0)"], {"relu"})
    assert where != clamp
    assert clamp == aliased
    assert "torch . clamp ( N , min = L )" in clamp["relu"]


def test_attributes_the_student_assigns_are_names_like_any_other():
    a = """class SGD:
    def __init__(self, params, lr):
        self.lr = lr
        self.params = list(params)"""
    b = """class SGD:
    def __init__(me, ps, rate):
        me.step_size = rate
        me.tensors = list(ps)"""
    assert tokens([a], {"SGD"}) == tokens([b], {"SGD"})


def test_provably_dead_code_is_dropped_and_live_looking_code_is_not():
    clean = "def sigmoid(z):\n    return 1 / (1 + torch.exp(-z))"
    dead = """def sigmoid(z):
    unused = z.shape
    pass
    if False:
        print('x')
    for _ in range(0):
        z = z
    assert True
    return 1 / (1 + torch.exp(-z))
    z = 2"""
    alive = "def sigmoid(z):\n    z = z.detach()\n    return 1 / (1 + torch.exp(-z))"  # looks idle, is code
    assert tokens([dead]) == tokens([clean])
    assert tokens([alive]) != tokens([clean])


def test_grouping_parentheses_do_not_count_but_calls_do():
    assert tokens(["def weighted_sum(x, w, b):\n    return (x @ w) + (b)"]) == tokens(
        ["def weighted_sum(x, w, b):\n    return x @ w + b"]
    )
    called = tokens(["import torch", "def sigmoid(z):\n    return torch.exp(z)"])
    assert "torch . exp ( N )" in called["sigmoid"]


def test_later_cells_win_and_broken_cells_or_magics_cost_only_themselves():
    cells = [
        "%matplotlib inline\ndef sign(z):\n    return z",
        "def sign(z):\n    return -z",
        "def sigmoid(z) oops",
        "%%bash\ndef weighted_sum(x, w, b):\n    return 0",
        "def helper():\n    pass",
    ]
    found = definitions(parse_cells(cells), A1)
    assert found == {"sign": "def sign(z):\n    return -z"}


def test_a_definition_too_deep_to_normalise_costs_only_itself():
    # at Python's default recursion limit: IPython (test_selfcheck) raises it to 3000 for the process
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        too_deep_is_dropped()
    finally:
        sys.setrecursionlimit(limit)


def too_deep_is_dropped():
    deep = "def sign(z):\n    if " + "not " * 1200 + "False:\n        return z\n    return z"
    assert list(tokens([deep, "def sigmoid(z):\n    return z"])) == ["sigmoid"]


# ----------------------------------------------------------------------------- fingerprints


def test_winnowing_selects_one_fingerprint_per_window_and_never_an_excluded_one():
    rng = random.Random(0)
    for _ in range(200):
        hashes = [rng.randrange(1000) for _ in range(rng.randint(1, 30))]
        excluded = [rng.random() < 0.2 for _ in hashes]
        chosen = winnow(hashes, 4, excluded=excluded)
        assert not any(excluded[i] for i in chosen)
        for start in range(len(hashes) - 3):
            window = [i for i in range(start, start + 4) if not excluded[i]]
            if window:
                assert hashes[max(window, key=lambda i: (-hashes[i], i))] in {hashes[i] for i in chosen}


def test_the_untouched_template_has_no_fingerprints(tmp_path, template):
    untouched = fingerprint("carol", TEMPLATE, read_cells(TEMPLATE), template=template)
    assert [f.name for f in untouched.functions] == sorted(A1)
    assert untouched.where == {}
    assert kgram_hashes(untouched.functions[0].tokens, 6)  # it has code, all of it given


# ----------------------------------------------------------------------------- ranking


def test_a_disguised_copy_is_flagged_and_independent_work_is_not(tmp_path, template):
    report = report_for(tmp_path, template, {"alice": ORIGINAL, "bob": DISGUISED, "carol": INDEPENDENT})
    flagged = [(p.student_a, p.student_b) for p in report.flagged]
    assert flagged == [("alice", "bob")]
    assert report.pairs[0].similarity >= 0.9
    assert all(p.similarity < 0.5 for p in report.pairs[1:])


def test_students_of_one_team_are_not_compared(tmp_path, template):
    policy = CoursePolicy(teams={"ravens": ("alice", "bob")})
    report = report_for(tmp_path, template, {"alice": ORIGINAL, "bob": DISGUISED, "dave": ORIGINAL}, policy)
    assert {(p.student_a, p.student_b) for p in report.flagged} == {("alice", "dave"), ("bob", "dave")}
    assert report.same_team == 1
    assert {p.team_a for p in report.pairs} == {"ravens"} and {p.team_b for p in report.pairs} == {"dave"}


def test_two_untouched_templates_share_nothing(tmp_path, template):
    stub = read_cells(TEMPLATE)
    assert report_for(tmp_path, template, {"carol": stub, "erin": stub}).pairs == ()


# ----------------------------------------------------------------------------- output


def test_the_html_escapes_student_code_and_marks_what_is_shared(tmp_path, template):
    note = "    label = '</pre><script>alert(1)</script>'  # a dead store: shown, never compared\n"
    hostile = [*ORIGINAL[:-1], ORIGINAL[-1].replace("    n, d = x.shape\n", "    n, d = x.shape\n" + note)]
    report = report_for(tmp_path, template, {"alice": hostile, "bob": DISGUISED})
    page = render(report)
    assert "&lt;/pre&gt;&lt;script&gt;" in page and "<script" not in page
    assert '<mark class="rare">' in page and "alice and bob" in page
    assert "src=" not in page and "<link" not in page  # offline: nothing is fetched


def test_segments_join_back_to_the_source():
    source = "return x @ w + b"
    pieces = segments(source, merge([(7, 12), (10, 14)]))
    assert "".join(p.text for p in pieces) == source
    assert [(p.text, p.shared) for p in pieces] == [("return ", False), ("x @ w +", True), (" b", False)]


def test_the_command_writes_the_ranked_table_and_the_page(tmp_path):
    course = tmp_path / "course"
    (course / "assignments" / "a1").mkdir(parents=True)
    shutil.copy(TEMPLATE, course / "assignments" / "a1" / "a1.ipynb")
    (course / "course.toml").write_text('[teams]\nowls = ["carol", "dave"]\n')
    class_dir = tmp_path / "submissions"
    class_dir.mkdir()
    students = {"alice": ORIGINAL, "bob": DISGUISED, "carol": INDEPENDENT, "dave": ORIGINAL}
    for student, cells in students.items():
        notebook(class_dir, student, cells)
    (class_dir / "erin.ipynb").write_text("not a notebook")
    out = tmp_path / "out"
    run = CliRunner().invoke(
        similarity, ["--assignment", "a1", "--course", str(course), "--out", str(out), str(class_dir)]
    )
    assert run.exit_code == 0, run.output
    assert "a1: 4 submissions, 5 pairs compared (1 within a team not compared); 3 flagged" in run.output
    assert "not compared: erin: the file is not valid notebook JSON" in run.output
    rows = list(csv.DictReader((out / "similarity-a1.csv").read_text().splitlines()))
    assert list(rows[0]) == [
        "rank",
        "student_a",
        "student_b",
        "team_a",
        "team_b",
        "similarity",
        "evidence",
        "scored",
        "compared",
        "shared",
        "fingerprints_a",
        "fingerprints_b",
        "flagged",
    ]
    assert {(r["student_a"], r["student_b"]) for r in rows if r["flagged"] == "1"} == {
        ("alice", "bob"),
        ("alice", "dave"),
        ("bob", "dave"),
    }
    ranked = [(-int(r["flagged"]), -round(float(r["similarity"]), 2), -float(r["evidence"])) for r in rows]
    assert ranked == sorted(ranked)
    assert "scored on 5 of 5 functions" in run.output
    assert (out / "similarity-a1.html").read_text().count('<section class="pair"') == 3


def test_an_assignment_without_a_released_notebook_is_an_error(tmp_path):
    run = CliRunner().invoke(similarity, ["--assignment", "a9", "--course", str(COURSE), str(tmp_path)])
    assert run.exit_code == 1
    assert "no released notebook to compare against" in run.output


# ----------------------------------------------------------------------------- inputs


def course_with_a1(tmp_path):
    course = tmp_path / "course"
    (course / "assignments" / "a1").mkdir(parents=True)
    shutil.copy(TEMPLATE, course / "assignments" / "a1" / "a1.ipynb")
    return course


def run_similarity(tmp_path, folder):
    return CliRunner().invoke(
        similarity,
        [
            "--assignment",
            "a1",
            "--course",
            str(course_with_a1(tmp_path)),
            "--out",
            str(tmp_path / "out"),
            str(folder),
        ],
    )


def test_an_empty_folder_is_an_error_not_zero_submissions(tmp_path):
    (tmp_path / "empty").mkdir()
    run = run_similarity(tmp_path, tmp_path / "empty")
    assert run.exit_code == 1
    assert "no a1 submissions (*.ipynb) in" in run.output and "nothing to compare" in run.output


def test_several_notebooks_of_one_student_say_which_one_is_compared(tmp_path):
    folder = tmp_path / "class"
    (folder / "alice").mkdir(parents=True)
    notebook(folder / "alice", "draft", ORIGINAL)
    notebook(folder / "alice", "a1", ORIGINAL[:-1])
    notebook(folder, "carol", INDEPENDENT)
    run = run_similarity(tmp_path, folder)
    assert run.exit_code == 0, run.output
    assert "note: alice handed in 2 notebooks (a1.ipynb, draft.ipynb); compared: a1.ipynb" in run.output


def test_a_byte_identical_resubmission_is_one_student_never_a_pair(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(notebook(folder, "alice", ORIGINAL), folder / "alice_resubmit.ipynb")
    notebook(folder, "bob", DISGUISED)
    run = run_similarity(tmp_path, folder)
    assert run.exit_code == 0, run.output
    assert "alice_resubmit.ipynb byte-identical to alice.ipynb: one student's resubmission" in run.output
    assert "a1: 2 submissions, 1 pairs compared" in run.output
    rows = list(csv.DictReader((tmp_path / "out" / "similarity-a1.csv").read_text().splitlines()))
    assert {(r["student_a"], r["student_b"]) for r in rows} == {("alice", "bob")}


def test_byte_identical_notebooks_of_two_students_stay_a_pair_and_are_named(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(notebook(folder, "alice", ORIGINAL), folder / "dave.ipynb")
    notebook(folder, "carol", INDEPENDENT)
    run = run_similarity(tmp_path, folder)
    assert "byte-identical notebooks of different students: alice.ipynb, dave.ipynb" in run.output
    rows = list(csv.DictReader((tmp_path / "out" / "similarity-a1.csv").read_text().splitlines()))
    assert ("alice", "dave") in {(r["student_a"], r["student_b"]) for r in rows}


# ----------------------------------------------------------------------------- rewrites


REWRITES = [  # (one way, the same code rewritten statement by statement)
    (
        "def sign(z):\n    out = []\n    for v in z:\n        out.append(v * 2)\n    return out",
        "def sign(z):\n    return [v * 2 for v in z]",
    ),
    (
        "def sign(z):\n    out = []\n    for v in z:\n        if v > 0:\n"
        "            out += [v]\n    return out",
        "def sign(z):\n    return [v for v in z if v > 0]",
    ),
    (
        "def sign(z):\n    total = 0\n    for v in z:\n        total = total + v * v\n    return total",
        "def sign(z):\n    return sum([v * v for v in z])",
    ),
    (
        "def sign(z):\n    acc = z\n    acc = acc * (2 + z)\n    return acc",
        "def sign(z):\n    acc = z\n    acc *= 2 + z\n    return acc",
    ),
    (
        "def sign(z):\n    if z.sum() > 0:\n        r = z\n    else:\n        r = -z\n    return r",
        "def sign(z):\n    r = z if z.sum() > 0 else -z\n    return r",
    ),
    (
        "def sign(z):\n    if z.sum() > 0:\n        return z\n    return -z",
        "def sign(z):\n    return z if z.sum() > 0 else -z",
    ),
    (
        "import torch as T\ndef weighted_sum(x, w, b):\n    return T.mm(x, w) + b",
        "def weighted_sum(x, w, b):\n    return x @ w + b",
    ),
    (
        "def weighted_sum(x, w, b):\n    return x.matmul(w) + b",
        "import torch\ndef weighted_sum(x, w, b):\n    return torch.matmul(x, w) + b",
    ),
    (
        "def weighted_sum(x, w, b):\n    return x @ w + b",
        "def weighted_sum(x, w, b):\n    return affine(x, w, b)\ndef affine(p, q, r):\n    return p @ q + r",
    ),
    (
        "def sign(z):\n    m = z.abs().max()\n    return z / m",
        "def sign(z):\n    return scaled(z)\ndef scaled(t):\n    big = t.abs().max()\n    return t / big",
    ),
]


@pytest.mark.parametrize(("one", "other"), REWRITES)
def test_statement_rewrites_and_helpers_give_the_same_tokens(one, other):
    first, second = tokens([one]), tokens([other])
    assert first and first == second


def test_a_loop_that_does_more_than_append_is_not_a_comprehension():
    loop = (
        "def sign(z):\n    out = []\n    for v in z:\n        print(v)\n        out.append(v)\n    return out"
    )
    assert tokens([loop]) != tokens(["def sign(z):\n    return [v for v in z]"])


def test_helpers_are_compared_too_and_highlighting_stays_on_the_students_text(template):
    helper = (
        "def rescale(t, k):\n    top = t.abs().max() + k\n    low = t.abs().min() - k\n"
        "    return (t - low) / top"
    )
    found = functions([ORIGINAL[2], helper], A1, with_helpers=True)
    assert [(f.name, f.helper) for f in found] == [("sign", False), ("rescale", True)]
    shown = {found[1].source[t.start : t.end] for t in found[1].tokens}
    assert "top = t.abs().max() + k" in shown  # every token lies on the statement it came from


# ----------------------------------------------------------------------------- evidence


def test_rarity_weighs_common_code_down_without_a_cliff():
    keys = [
        frozenset(
            {("f", 1)}
            | ({("f", 2)} if i < 24 else set())
            | ({("f", 3)} if i < 33 else set())
            | ({("f", 4)} if i < 2 else set())
        )
        for i in range(120)
    ]
    weights = rarity_weights(keys)
    assert weights[("f", 4)] == 1.0  # only a pair wrote it
    assert 1.0 > weights[("f", 2)] > weights[("f", 3)] > 0.2  # 24 and 33 of 120: both count, a little
    assert weights[("f", 1)] == 0.0  # everyone


def test_a_pair_sharing_one_rare_function_is_not_flagged_but_reported_as_a_partial_copy(tmp_path, template):
    partial = [*INDEPENDENT[:-1], ORIGINAL[-1]]  # perceptron_fit copied, the rest independent
    report = report_for(tmp_path, template, {"alice": ORIGINAL, "erin": partial})
    (pair,) = report.pairs
    assert not pair.flagged and pair.evidence < Settings().min_evidence
    assert [(p.student_a, p.student_b, p.function) for p in report.partials] == [
        ("alice", "erin", "perceptron_fit")
    ]
    assert pair.compared == 5 and pair.scored <= 5


def test_a_copy_is_scored_on_its_functions_and_says_so(tmp_path, template):
    report = report_for(tmp_path, template, {"alice": ORIGINAL, "bob": DISGUISED, "carol": INDEPENDENT})
    top = report.pairs[0]
    assert (top.student_a, top.student_b, top.flagged) == ("alice", "bob", True)
    assert top.evidence >= 3 and top.compared == 5
    assert {f.name for f in top.functions if f.counted} <= A1
    assert report.partials == ()  # a whole copy is not also listed as partial copies


def test_the_page_marks_only_statements_and_tells_rare_from_common_and_folds_the_template(tmp_path, template):
    sign = ORIGINAL[2].replace("    out[z > 0] = 1\n", "    # my own idea\n    out[z > 0] = 1\n")
    commented = [*ORIGINAL[:2], sign, *ORIGINAL[3:]]
    stub = read_cells(TEMPLATE)
    fit = [c for c in stub if "def perceptron_fit" in c or c.startswith(("import", "from"))]
    helper = (
        "def perceptron_fit(x, y, lr=1.0, epochs=100):\n    return train(x, y, lr, epochs)\n"
        "def train(a, b, c, d):\n" + "\n".join("    " + line for line in ORIGINAL[-1].splitlines()[1:])
    )
    students = {"alice": commented, "bob": [*DISGUISED[:1], *DISGUISED[2:], helper]}
    # sigmoid written the same way by many: common in the class
    students |= {f"s{i}": [*INDEPENDENT[:3], ORIGINAL[3], *INDEPENDENT[4:]] for i in range(40)}
    report = report_for(tmp_path, template, students)
    page = render(report)
    assert "# my own idea" in page and '<mark class="rare"># my own idea' not in page
    assert "my own idea</mark>" not in page
    assert '<mark class="common">z = torch.clamp(z, -60, 60)</mark>' in page  # 40 others wrote it
    assert "helpers (the students&#39; own functions)" in page and "def train(a, b, c, d):" in page
    assert "scored on" in page and "not scored" in page or "score 1.00" in page
    assert fit and "both as the template gave it (folded)" not in page  # nobody left a function untouched
    untouched = report_for(tmp_path, template, {"alice": [*ORIGINAL, *fit], "bob": [*DISGUISED, *fit]})
    assert "perceptron_fit: both as the template gave it (folded)" in render(untouched)


def test_a_long_function_many_wrote_the_same_way_is_not_a_partial_copy(tmp_path, template):
    lecture = [*INDEPENDENT[:-1], ORIGINAL[-1]]  # the perceptron_fit of the lecture notes, written by twelve
    report = report_for(tmp_path, template, {f"s{i:02d}": lecture for i in range(12)})
    assert report.pairs and report.partials == ()


def test_prints_and_asserts_are_padding_not_code():
    padded = (
        "def sign(z):\n    verbose = False\n    print('checking shapes')\n    out = z * 2\n"
        "    assert len(str(1)) == 1\n    if verbose:\n        print('step')\n    return out"
    )
    assert tokens([padded]) == tokens(["def sign(z):\n    return z * 2"])


def test_a_recursive_helper_is_inlined_a_bounded_number_of_times():
    recursive = (
        "def sign(z):\n    y = deeper(z)\n    return y\n"
        "def deeper(x):\n    if x.sum() > 0:\n        y = deeper(x - 1)\n    return x"
    )
    (found,) = functions([recursive], A1)
    assert 0 < len(found.tokens) < 5000


def test_a_helper_of_the_copiers_own_does_not_lower_the_similarity():
    from grader.similarity.fingerprints import FunctionScore, similarity  # noqa: PLC0415

    graded = (FunctionScore("sign", 1.0, 5.0, 5.0, True), FunctionScore("sigmoid", 0.9, 4.0, 4.0, True))
    extra = (FunctionScore("(helpers)", 0.0, 0.0, 2.0, True),)
    assert similarity(graded + extra) == similarity(graded) == 0.95
    shared = (FunctionScore("(helpers)", 1.0, 2.0, 2.0, True),)
    assert similarity(graded + shared) > similarity(graded)


def test_the_flag_reads_the_evidence_as_printed():
    from pathlib import Path  # noqa: PLC0415

    from grader.similarity.fingerprints import Fingerprinted, FunctionScore, _pair  # noqa: PLC0415

    nearly = tuple(FunctionScore(n, 0.9985, 9.0, 9.0, True) for n in ("sign", "sigmoid", "weighted_sum"))
    a, b = (Fingerprinted(s, Path(f"{s}.ipynb"), (), {}) for s in ("ana", "ben"))
    pair = _pair(a, b, "ana", "ben", nearly, frozenset(), Settings())
    assert pair.evidence == 3.0 and pair.flagged  # 2.9955 is shown as 3.0 and counts as 3.0
