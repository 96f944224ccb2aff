"""Precision, recall and average precision of ``dlgrade similarity`` on a generated class.

    python bench/similarity.py                                  # a1 and a2, 200 students, seeds 3-5
    pip install --target /tmp/copydetect-env copydetect==0.5.0  # optional: the library it was weighed against
    python bench/similarity.py --copydetect /tmp/copydetect-env

The class: ``bench/similarity_corpus/aN/sNN.py`` holds ten complete, correct solutions per
assignment, written by one person (the author of the first version of this file) in
deliberately different styles; that they are not ten people's work is the bench's main
weakness. An honest student takes each function from one of the ten at random and writes
it with habits of their own (``_Habits``: operand order of ``+`` and ``*``, the side of a
comparison, ``torch.exp(x)`` or ``x.exp()``, a coin per place), so two honest students
still share whole functions by chance, nearly word for word. A copier takes an honest
student's notebook and disguises it (``TRANSFORMS``: verbatim, renamed, reordered,
statement-rewritten, comments, dead code, literals, all at once), or, as a partial copier,
writes their own notebook and takes one or two of the other's longest functions. Ground
truth: a pair is a copy exactly when one submission was made from the other. Precision
and recall are over pairs of whole copies (partial copies are neither positives nor
negatives there; they are measured as partial-copy findings), at the defaults of
``grader.similarity.fingerprints.Settings``, chosen on seeds 1 and 2; the reported seeds are 3 to 5.
The baseline is a plain token Jaccard over the sorted definitions (``jaccard_ranking``).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"  # this repository\'s course
sys.path.insert(0, str(ROOT))

from grader.course.course_file import CoursePolicy  # noqa: E402
from grader.course.layout import Course  # noqa: E402
from grader.intake.notebook import read_cells  # noqa: E402
from grader.intake.submissions import discover  # noqa: E402
from grader.similarity.fingerprints import (  # noqa: E402
    Report,
    Settings,
    compare,
    compare_submissions,
    fingerprint,
    load_template,
    rarity_weights,
)  # noqa: E402
from grader.similarity.html import render  # noqa: E402
from grader.similarity.tokens import parse_cells  # noqa: E402

CORPUS = Path(__file__).with_name("similarity_corpus")
TRANSFORMS = (
    "verbatim",
    "rename",
    "reorder",
    "rewrite",
    "comments",
    "dead_code",
    "literals",
    "all",
    "partial",
)
LADDER = (
    "verbatim",
    "rename",
    "reorder",
    "rewrite",
    "comments",
    "dead_code",
    "literals",
    "all",
)  # whole copies
WORDS = (
    "value",
    "tmp",
    "acc",
    "data",
    "item",
    "res",
    "out_",
    "thing",
    "vec",
    "mat",
    "cur",
    "aux",
    "q",
    "alpha_",
    "beta_",
    "foo",
    "bar",
    "node",
    "elem",
    "store",
    "holder",
    "my_var",
    "temp2",
)


@dataclass
class Student:
    """A submission before it is written: imports, and definitions in notebook order."""

    name: str
    imports: list[str]
    definitions: list[tuple[str, str]]  # (name, source)
    copied_from: str | None = None
    transform: str | None = None
    cell_layout: list[list[int]] = field(default_factory=list)  # definition indices per cell
    partial: tuple[str, ...] = ()  # the functions a partial copier took


# ----------------------------------------------------------------------------- the class


def solutions(assignment: str) -> list[tuple[list[str], dict[str, str]]]:
    """The ten solutions of an assignment: (import lines, {name: source of the def})."""
    found = []
    for path in sorted((CORPUS / assignment).glob("s*.py")):
        text = path.read_text()
        tree = ast.parse(text)
        imports = [
            ast.get_source_segment(text, n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)
        ]
        defs = {n.name: ast.get_source_segment(text, n) for n in tree.body if isinstance(n, ast.FunctionDef)}
        found.append((imports, defs))
    return found


def honest_student(name: str, corpus, graded: list[str], rng: random.Random) -> Student:
    """Each graded function from one of the ten solutions; helpers travel with their solution."""
    chosen = {function: rng.randrange(len(corpus)) for function in graded}
    imports = sorted({line for index in set(chosen.values()) for line in corpus[index][0]})
    definitions = []
    for index in sorted(set(chosen.values())):
        definitions += [(n, s) for n, s in corpus[index][1].items() if n not in graded]  # helpers
    definitions += [
        (function, personal(corpus[index][1][function], rng)) for function, index in chosen.items()
    ]
    return Student(name, imports, definitions)


class _Habits(ast.NodeTransformer):
    """One student's small habits, all kept by the detector: the order of the operands of ``+``
    and ``*``, which side of a comparison comes first, and ``torch.exp(x)`` against ``x.exp()``."""

    FLIPPED = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE}
    UNARY = {"exp", "abs", "log", "sum", "mean", "sigmoid", "tanh", "sqrt", "sign"}

    def __init__(self, rng: random.Random):
        self.rng = rng

    def visit_BinOp(self, node: ast.BinOp) -> ast.BinOp:
        self.generic_visit(node)
        if isinstance(node.op, ast.Add | ast.Mult) and self.rng.random() < 0.5:
            node.left, node.right = node.right, node.left
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.Compare:
        self.generic_visit(node)
        flipped = self.FLIPPED.get(type(node.ops[0])) if len(node.ops) == 1 else None
        if flipped and self.rng.random() < 0.5:
            return ast.Compare(node.comparators[0], [flipped()], [node.left])
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in self.UNARY and self.rng.random() < 0.5):
            return node
        if isinstance(func.value, ast.Name) and func.value.id == "torch" and len(node.args) == 1:
            return ast.Call(ast.Attribute(node.args[0], func.attr, ast.Load()), [], node.keywords)
        if not (isinstance(func.value, ast.Name) and func.value.id == "torch") and not node.args:
            torch = ast.Attribute(ast.Name("torch", ast.Load()), func.attr, ast.Load())
            return ast.Call(torch, [func.value], node.keywords)
        return node


def personal(source: str, rng: random.Random) -> str:
    """A corpus solution as one student writes it: two students who chose the same solution
    still differ where independent people do (a coin per habit and place, see _Habits)."""
    return ast.unparse(ast.fix_missing_locations(_Habits(rng).visit(ast.parse(source))))


def copier(
    name: str, source: Student, transform: str, rng: random.Random, corpus=None, graded=None
) -> Student:
    if transform == "partial":
        return partial_copy(name, source, corpus, graded, rng)
    steps = (
        ["rename", "reorder", "rewrite", "comments", "dead_code", "literals"]
        if transform == "all"
        else [transform]
    )
    steps = [step for step in steps if step != "verbatim"]
    student = Student(name, list(source.imports), list(source.definitions), source.name, transform)
    for step in steps:
        student = STEPS[step](student, rng)
    return student


def graded_of(corpus) -> list[str]:
    """The functions every solution defines (the graded ones; helpers such as s03's log_softmax are not)."""
    return [name for name in corpus[0][1] if all(name in defs for _, defs in corpus)]


def make_class(assignment: str, size: int, copies: int, seed: int) -> list[Student]:
    rng = random.Random(seed)
    corpus = solutions(assignment)
    graded = graded_of(corpus)
    honest = [honest_student(f"h{i:03d}", corpus, graded, rng) for i in range(size - copies)]
    sources = rng.sample(honest, copies)
    copied = [
        copier(f"c{i:03d}", src, TRANSFORMS[i % len(TRANSFORMS)], rng, corpus, graded)
        for i, src in enumerate(sources)
    ]
    return honest + copied


def write_notebook(student: Student, folder: Path, demo: str) -> Path:
    layout = student.cell_layout or [[i] for i in range(len(student.definitions))]
    cells = [nbformat.v4.new_code_cell("\n".join(student.imports))]
    for indices in layout:
        cells.append(nbformat.v4.new_code_cell("\n\n\n".join(student.definitions[i][1] for i in indices)))
    cells.append(nbformat.v4.new_code_cell(demo))
    path = folder / f"{student.name}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


# ----------------------------------------------------------------------------- disguises


class _Renamer(ast.NodeTransformer):
    """Rename every name a function binds (parameters, locals), consistently."""

    def __init__(self, names: dict[str, str]):
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.names.get(node.id, node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self.names.get(node.arg, node.arg)
        return node


def _bound(function: ast.FunctionDef) -> set[str]:
    names = {a.arg for a in ast.walk(function) if isinstance(a, ast.arg)}
    names |= {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def rename(student: Student, rng: random.Random) -> Student:
    renamed = []
    for name, source in student.definitions:
        function = ast.parse(source).body[0]
        local = sorted(_bound(function))
        new = {old: f"{rng.choice(WORDS)}{i}" for i, old in enumerate(local)}
        renamed.append((name, ast.unparse(_Renamer(new).visit(function))))
    return replace(student, definitions=renamed)


def reorder(student: Student, rng: random.Random) -> Student:
    definitions = list(student.definitions)
    rng.shuffle(definitions)
    cut = sorted(rng.sample(range(1, len(definitions)), k=min(2, len(definitions) - 1)))
    bounds = [0, *cut, len(definitions)]
    layout = [list(range(a, b)) for a, b in zip(bounds, bounds[1:], strict=False)]
    return replace(student, definitions=definitions, cell_layout=layout)


COMMENTS = (
    "# compute the result",
    "# TODO: check shapes",
    "# this is my own implementation",
    "# vectorised for speed",
    "# see lecture 3",
    "# edge case",
)


def comments(student: Student, rng: random.Random) -> Student:
    commented = []
    for name, source in student.definitions:
        lines = []
        for line in source.splitlines():
            indent = line[: len(line) - len(line.lstrip())]
            if line.strip() and not line.lstrip().startswith(("def ", "@")) and rng.random() < 0.4:
                lines.append(f"{indent}{rng.choice(COMMENTS)}")
            lines.append(line + (f"  {rng.choice(COMMENTS)}" if line.strip() and rng.random() < 0.2 else ""))
            if line.lstrip().startswith("def ") and line.rstrip().endswith(":"):
                lines.append(f'{indent}    """{name}: written by me, following the lecture notes."""')
        commented.append((name, "\n".join(lines)))
    return replace(student, definitions=commented)


# Half of these are provably dead and the normaliser drops them; the other half look alive
# (a print, a flag that is read, an assert that is not a constant) and stay in the copy.
DEAD = (
    "_unused = None",
    "if False:\n    print('debug')",
    "for _ in range(0):\n    pass",
    "assert True",
    "print('checking shapes')",
    "verbose = False\nif verbose:\n    print('step')",
    "assert len(str(1)) == 1",
)


def dead_code(student: Student, rng: random.Random) -> Student:
    padded = []
    for name, source in student.definitions:
        function = ast.parse(source).body[0]
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, max(0, len(function.body) - 1))
            function.body[at:at] = ast.parse(rng.choice(DEAD)).body
        padded.append((name, ast.unparse(function)))
    return replace(student, definitions=padded)


class _Literals(ast.NodeTransformer):
    def __init__(self, rng: random.Random):
        self.rng = rng

    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        value = node.value
        if isinstance(value, bool) or value is None:
            return node
        if isinstance(value, int):
            node.value = float(value) if self.rng.random() < 0.5 else value
        elif isinstance(value, float):
            node.value = int(value) if value.is_integer() else round(value * 1.5, 6)
        return node


def literals(student: Student, rng: random.Random) -> Student:
    changed = [(n, ast.unparse(_Literals(rng).visit(ast.parse(s).body[0]))) for n, s in student.definitions]
    return replace(student, definitions=changed)


class _Rewriter(ast.NodeTransformer):
    """Statement-level rewrites a copier makes by hand: ``+=`` spelled out, ``@`` as ``torch.matmul``,
    comprehensions as loops, conditional expressions as ``if`` statements."""

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        self.generic_visit(node)
        load = ast.parse(ast.unparse(node.target), mode="eval").body
        return ast.copy_location(ast.Assign([node.target], ast.BinOp(load, node.op, node.value)), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.MatMult):
            func = ast.Attribute(ast.Name("torch", ast.Load()), "matmul", ast.Load())
            return ast.copy_location(ast.Call(func, [node.left, node.right], []), node)
        return node

    def visit_Return(self, node: ast.Return):
        self.generic_visit(node)
        value = node.value
        if isinstance(value, ast.IfExp):
            return [ast.If(value.test, [ast.Return(value.body)], []), ast.Return(value.orelse)]
        if isinstance(value, ast.ListComp) and len(value.generators) == 1 and not value.generators[0].ifs:
            return _as_loop("collected", value) + [ast.Return(ast.Name("collected", ast.Load()))]
        return node

    def visit_Assign(self, node: ast.Assign):
        self.generic_visit(node)
        value = node.value
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if isinstance(value, ast.ListComp) and len(value.generators) == 1 and not value.generators[0].ifs:
                return _as_loop(name, value)
            if isinstance(value, ast.IfExp):
                return ast.If(
                    value.test,
                    [ast.Assign(node.targets, value.body)],
                    [ast.Assign(node.targets, value.orelse)],
                )
        return node


def _as_loop(name: str, comprehension: ast.ListComp) -> list[ast.stmt]:
    generator = comprehension.generators[0]
    append = ast.Expr(
        ast.Call(ast.Attribute(ast.Name(name, ast.Load()), "append", ast.Load()), [comprehension.elt], [])
    )
    return [
        ast.Assign([ast.Name(name, ast.Store())], ast.List([], ast.Load())),
        ast.For(generator.target, generator.iter, [append], []),
    ]


def _extract_helper(function: ast.FunctionDef) -> ast.FunctionDef | None:
    """Move the returned expression of ``function`` into a helper of its own (and call it)."""
    last = function.body[-1]
    if not isinstance(last, ast.Return) or not isinstance(last.value, ast.BinOp | ast.Call):
        return None
    bound = _bound(function)
    used = sorted({n.id for n in ast.walk(last.value) if isinstance(n, ast.Name) and n.id in bound})
    arguments = ast.arguments([], [ast.arg(u) for u in used], None, [], [], None, [])
    helper = ast.FunctionDef(f"_{function.name}_part", arguments, [ast.Return(last.value)], [])
    last.value = ast.Call(ast.Name(helper.name, ast.Load()), [ast.Name(u, ast.Load()) for u in used], [])
    return helper


def rewrite(student: Student, rng: random.Random) -> Student:
    """Every function rewritten statement by statement; one in two also has a helper extracted."""
    rewritten = []
    for name, source in student.definitions:
        function = ast.fix_missing_locations(_Rewriter().visit(ast.parse(source))).body[0]
        helper = _extract_helper(function) if rng.random() < 0.5 else None
        if helper is not None:
            rewritten.append((helper.name, ast.unparse(ast.fix_missing_locations(helper))))
        rewritten.append((name, ast.unparse(ast.fix_missing_locations(function))))
    imports = sorted({*student.imports, "import torch"})
    return replace(student, imports=imports, definitions=rewritten)


def partial_copy(name: str, source: Student, corpus, graded: list[str], rng: random.Random) -> Student:
    """An honest student of its own who copied one or two of ``source``'s longest functions."""
    student = honest_student(name, corpus, graded, rng)
    theirs = dict(source.definitions)
    longest = sorted(graded, key=lambda f: -len(theirs[f]))[: rng.choice((1, 2))]
    definitions = [(f, theirs[f] if f in longest else s) for f, s in student.definitions]
    imports = sorted({*student.imports, *source.imports})
    return Student(name, imports, definitions, source.name, "partial", partial=tuple(longest))


STEPS = {
    "rename": rename,
    "reorder": reorder,
    "comments": comments,
    "dead_code": dead_code,
    "literals": literals,
    "rewrite": rewrite,
}


# ----------------------------------------------------------------------------- measuring


def truth(students: list[Student]) -> set[frozenset[str]]:
    """Whole-notebook copies (every disguise but ``partial``)."""
    return {
        frozenset((s.name, s.copied_from)) for s in students if s.copied_from and s.transform != "partial"
    }


def partial_truth(students: list[Student]) -> set[frozenset[str]]:
    return {frozenset((s.name, s.copied_from)) for s in students if s.transform == "partial"}


def scores(flagged: set[frozenset[str]], positives: set[frozenset[str]]) -> dict:
    hits = flagged & positives
    return {
        "flagged": len(flagged),
        "true_positives": len(hits),
        "precision": round(len(hits) / len(flagged), 4) if flagged else 1.0,
        "recall": round(len(hits) / len(positives), 4) if positives else 1.0,
    }


def recall_by_transform(students: list[Student], flagged: set[frozenset[str]]) -> dict[str, str]:
    out = {}
    for transform in TRANSFORMS:
        pairs = [frozenset((s.name, s.copied_from)) for s in students if s.transform == transform]
        out[transform] = f"{sum(p in flagged for p in pairs)}/{len(pairs)}"
    return out


def average_precision(
    ranking: list[frozenset[str]], positives: set[frozenset[str]], ignored: set[frozenset[str]]
) -> float:
    """AP of a ranking of pairs (best first; pairs not ranked come last, in no order: they count as 0)."""
    hits, total = 0, 0.0
    rank = 0
    for pair in ranking:
        if pair in ignored:
            continue
        rank += 1
        if pair in positives:
            hits += 1
            total += hits / rank
    return round(total / len(positives), 4) if positives else 1.0


def jaccard_ranking(students: list[Student], k: int = 3) -> list[tuple[frozenset[str], float]]:
    """The baseline: Jaccard similarity of the sets of raw token ``k``-grams of the definitions
    (Python's tokenizer, comments and layout dropped, names and literals kept), ranked."""
    import io  # noqa: PLC0415
    import tokenize  # noqa: PLC0415

    skip = {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
        tokenize.ENCODING,
    }
    grams = {}
    for st in students:
        text = "\n\n".join(source for _, source in sorted(st.definitions))
        words = [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in skip]
        grams[st.name] = {tuple(words[i : i + k]) for i in range(len(words) - k + 1)}
    names = sorted(grams)
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            union = len(grams[a] | grams[b])
            pairs.append((frozenset((a, b)), len(grams[a] & grams[b]) / union if union else 0.0))
    pairs.sort(key=lambda p: -p[1])
    return pairs


def per_disguise(
    students: list[Student], ranking: list[frozenset[str]], flagged: set[frozenset[str]]
) -> dict:
    """For each disguise: its copies against every honest pair (other disguises set aside)."""
    copies = {s.transform: set() for s in students if s.transform}
    for s in students:
        if s.transform:
            copies[s.transform].add(frozenset((s.name, s.copied_from)))
    every = set().union(*copies.values()) if copies else set()
    out = {}
    for transform, positives in sorted(copies.items()):
        ignored = every - positives
        mine = flagged - ignored
        out[transform] = {
            "copies": len(positives),
            "found": len(positives & flagged),
            "false_flags": len(mine - positives),
            "average_precision": average_precision(ranking, positives, ignored),
        }
    return out


def run_dlgrade(assignment: str, folder: Path, settings: Settings) -> tuple[Report, dict[str, float]]:
    """The detector as ``dlgrade similarity`` runs it, timed by phase."""
    start = time.perf_counter()
    template = load_template(COURSE / "assignments" / assignment / f"{assignment}.ipynb", k=settings.k)
    prints = [
        fingerprint(s.student, s.path, read_cells(s.path), template=template, settings=settings)
        for s in discover([str(folder)], assignment)
    ]
    fingerprinted = time.perf_counter()
    report = compare(
        prints, assignment=assignment, policy=CoursePolicy(), settings=settings, template=template
    )
    compared = time.perf_counter()
    render(report)
    done = time.perf_counter()
    naive = naive_all_pairs(prints)
    return report, {
        "read_and_fingerprint": round(fingerprinted - start, 2),
        "pairs_inverted_index": round(compared - fingerprinted, 2),
        "html": round(done - compared, 2),
        "total": round(done - start, 2),
        "pairs_naive_for_comparison": naive,
    }


def naive_all_pairs(prints: list) -> float:
    """What the inverted index saves: intersecting the fingerprint sets of every pair."""
    start = time.perf_counter()
    keys = [frozenset(p.where) for p in prints]
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            _ = len(keys[i] & keys[j])
    return round(time.perf_counter() - start, 2)


def evaluate(assignment: str, size: int, copies: int, seed: int, settings: Settings) -> dict:
    students = make_class(assignment, size, copies, seed)
    demo = read_cells(COURSE / "assignments" / assignment / f"{assignment}.ipynb")[-1]
    with tempfile.TemporaryDirectory() as tmp:
        for student in students:
            write_notebook(student, Path(tmp), demo)
        report, seconds = run_dlgrade(assignment, Path(tmp), settings)
    flagged = {frozenset((p.student_a, p.student_b)) for p in report.flagged}
    positives, partial = truth(students), partial_truth(students)
    ranking = [frozenset((p.student_a, p.student_b)) for p in report.pairs]
    found_partial = {frozenset((p.student_a, p.student_b)) for p in report.partials}
    jaccard = jaccard_ranking(students)
    false = [p for p in report.flagged if frozenset((p.student_a, p.student_b)) not in positives | partial]
    return {
        "seed": seed,
        "students": size,
        "copies": copies,
        "pairs": size * (size - 1) // 2,
        **scores(flagged - partial, positives),
        "recall_by_transform": recall_by_transform(students, flagged),
        "per_disguise": per_disguise(students, ranking, flagged),
        "jaccard_per_disguise": per_disguise(students, [p for p, _ in jaccard], set()),
        "partial_findings": {
            "found": len(found_partial & partial),
            "of": len(partial),
            "findings": len(report.partials),
            "pairs_of_findings_that_are_copies": len(found_partial & (partial | positives)),
            "pairs_with_findings": len(found_partial),
        },
        "partial_diagnosis": partial_diagnosis(report, partial),
        "false_positives": [(p.student_a, p.student_b, p.similarity, p.evidence, p.scored) for p in false][
            :10
        ],
        "missed": _missed(report, positives, flagged),
        "seconds": seconds,
        "all_pairs": [(p.student_a, p.student_b, p.similarity, p.evidence) for p in report.pairs],
        "jaccard": [(tuple(sorted(p)), j) for p, j in jaccard[:5000]],
    }


def partial_diagnosis(report: Report, partial: set[frozenset[str]]) -> dict:
    """For each partial copy: its most copied function's (score, rare mass, mean weight of the shared
    fingerprints); the same for the honest pairs' long shared functions (their number and the ten
    with the rarest shared code), to set the partial limits."""
    keys = {p.student: frozenset(p.where) for p in report.submissions}
    weights = rarity_weights(list(keys.values()))
    out = []
    for pair in report.pairs:
        is_copy = frozenset((pair.student_a, pair.student_b)) in partial
        for f in pair.functions:
            if f.counted and f.score >= 0.9 and f.mass >= report.settings.partial_mass / 2:
                mine = [weights[k] for k in keys[pair.student_a] & keys[pair.student_b] if k[0] == f.name]
                out.append((is_copy, f.name, f.score, f.mass, round(sum(mine) / max(1, len(mine)), 3)))
    honest = sorted((x for x in out if not x[0]), key=lambda x: -x[4])
    return {"copies": [x for x in out if x[0]], "honest_count": len(honest), "honest_rarest": honest[:10]}


def identical_histogram(students: list[Student], pairs: list | None, graded: list[str]) -> dict[int, int]:
    """How many graded functions two submissions' origins share verbatim (copiers: their source's).

    With ``pairs`` None: over every pair of honest students, what the class model produces.
    """
    by_name = {s.name: s for s in students}
    origin = {s.name: dict(by_name[s.copied_from or s.name].definitions) for s in students}
    if pairs is None:
        honest = [s.name for s in students if not s.copied_from]
        names = [(a, b) for i, a in enumerate(honest) for b in honest[i + 1 :]]
    else:
        names = [(p.student_a, p.student_b) for p in pairs]
    counts: dict[int, int] = {}
    for a, b in names:
        same = sum(origin[a].get(f) == origin[b].get(f) for f in graded)
        counts[same] = counts.get(same, 0) + 1
    return dict(sorted(counts.items()))


def _missed(report, positives, flagged) -> list:
    by_pair = {frozenset((p.student_a, p.student_b)): p for p in report.pairs}
    missed = []
    for pair in positives - flagged:
        p = by_pair.get(pair)
        missed.append((*sorted(pair), p.similarity if p else 0.0, p.evidence if p else 0.0))
    return sorted(missed)


def sweep(
    runs: list[dict], positives_of: dict, thresholds: list[float], evidences: list[float]
) -> list[dict]:
    """Precision and recall per assignment at other settings, from the scores already computed."""
    table = []
    for assignment in sorted({run["assignment"] for run in runs}):
        mine = [run for run in runs if run["assignment"] == assignment]
        for threshold in thresholds:
            for least in evidences:
                table.append({"assignment": assignment, **_at(threshold, least, mine, positives_of)})
    return table


def _at(threshold: float, least: float, runs: list[dict], positives_of: dict) -> dict:
    tp = fp = pos = 0
    for run in runs:
        positives, partial = positives_of[(run["assignment"], run["seed"])]
        flagged = {
            frozenset((a, b)) for a, b, s, e in run["all_pairs"] if s >= threshold and e >= least
        } - partial
        tp, fp, pos = tp + len(flagged & positives), fp + len(flagged - positives), pos + len(positives)
    return {
        "threshold": threshold,
        "min_evidence": least,
        "precision": round(tp / max(1, tp + fp), 4),
        "recall": round(tp / max(1, pos), 4),
        "false_positives": fp,
    }


def best_f1(runs: list[dict], positives_of: dict, baseline: str = "jaccard") -> dict:
    """A baseline's precision and recall at its best F1 threshold on these very runs (optimistic)."""
    best = {}
    for assignment in sorted({run["assignment"] for run in runs}):
        mine = [run for run in runs if run["assignment"] == assignment]
        rows = []
        for threshold in [x / 20 for x in range(4, 20)]:
            tp = fp = pos = 0
            for run in mine:
                positives, partial = positives_of[(assignment, run["seed"])]
                flagged = {frozenset(p) for p, j in run[baseline] if j >= threshold} - partial
                tp, fp, pos = (
                    tp + len(flagged & positives),
                    fp + len(flagged - positives),
                    pos + len(positives),
                )
            precision, recall = tp / max(1, tp + fp), tp / max(1, pos)
            rows.append(
                {"threshold": threshold, "precision": round(precision, 4), "recall": round(recall, 4)}
            )
        best[assignment] = max(rows, key=lambda r: _f1(r["precision"], r["recall"]))
    return best


def solutions_only(assignment: str, settings: Settings) -> dict:
    """The ten solutions alone: how similar do genuinely independent solutions look?"""
    corpus = solutions(assignment)
    demo = read_cells(COURSE / "assignments" / assignment / f"{assignment}.ipynb")[-1]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (imports, defs) in enumerate(corpus, start=1):
            write_notebook(Student(f"s{i:02d}", imports, list(defs.items())), Path(tmp), demo)
        report = compare_submissions([tmp], assignment=assignment, course=Course(COURSE), settings=settings)
    top = report.pairs[:3]
    return {
        "pairs": 45,
        "flagged": len(report.flagged),
        "most_similar": [(p.student_a, p.student_b, p.similarity, p.evidence) for p in top],
    }


def copydetect_similarities(assignment: str, students: list[Student], k: int, window: int) -> tuple:
    """copydetect 0.5.0 on the same extracted definitions, the template as its boilerplate.

    It gets this module's extraction (definitions by name, sorted), so reordering is
    handled for it too; the tokenizing, fingerprinting and scoring are its own. A pair's
    similarity is the larger of its two percentages, as its report ranks them.
    """
    import io  # noqa: PLC0415
    from itertools import combinations  # noqa: PLC0415

    from copydetect import CodeFingerprint, compare_files  # noqa: PLC0415

    from grader.similarity.tokens import definitions  # noqa: PLC0415

    template_cells = parse_cells(read_cells(COURSE / "assignments" / assignment / f"{assignment}.ipynb"))
    names = frozenset(n.name for c in template_cells for n in c.tree.body if hasattr(n, "name"))

    def code(cells: list[str]) -> str:
        found = definitions(parse_cells(cells), names)
        return "\n\n".join(found[n] for n in sorted(found))

    boilerplate = CodeFingerprint(
        "t.py", k, window, fp=io.StringIO(code([c.source for c in template_cells])), language="python"
    ).hashes
    start = time.perf_counter()
    prints = {}
    for st in students:
        cells = ["\n".join(st.imports)] + [source for _, source in st.definitions]
        prints[st.name] = CodeFingerprint(
            f"{st.name}.py",
            k,
            window,
            boilerplate=list(boilerplate),
            fp=io.StringIO(code(cells)),
            language="python",
        )
    pairs = []
    for a, b in combinations(sorted(prints), 2):
        _, (s1, s2), _ = compare_files(prints[a], prints[b])
        pairs.append((a, b, float(max(s1, s2))))
    return pairs, round(time.perf_counter() - start, 2)


def copydetect_run(assignment: str, students: list[Student]) -> dict:
    """copydetect at its defaults (k = 25 characters, window 1) on one class: its ranking of
    every pair, its average precision per disguise, and its time."""
    pairs, seconds = copydetect_similarities(assignment, students, k=25, window=1)
    ranked = sorted(pairs, key=lambda p: -p[2])
    ranking = [frozenset((a, b)) for a, b, _ in ranked]
    return {
        "copydetect": [(tuple(sorted((a, b))), s) for a, b, s in ranked],
        "copydetect_per_disguise": per_disguise(students, ranking, set()),
        "copydetect_seconds": seconds,
    }


def markdown(results: dict) -> str:
    """The tables of bench/README.md: per assignment and disguise, the seeds pooled."""
    lines = []
    runs = results["runs"]
    for assignment in sorted({r["assignment"] for r in runs}):
        mine = [r for r in runs if r["assignment"] == assignment]
        flagged = sum(r["flagged"] for r in mine)
        hits = sum(r["true_positives"] for r in mine)
        positives = sum(
            sum(d["copies"] for t, d in r["per_disguise"].items() if t != "partial") for r in mine
        )
        best = results["jaccard_best_f1"][assignment]
        other = results.get("copydetect_best_f1", {}).get(assignment)
        lines += [
            f"**{assignment}**: dlgrade at its defaults flagged {flagged} pairs, {hits} of them copies: "
            f"precision **{hits / max(1, flagged):.2f}**, recall **{hits / max(1, positives):.2f}** "
            f"({hits} of {positives} whole copies). Token Jaccard at its best-F1 threshold on these "
            f"runs ({best['threshold']}): precision {best['precision']:.2f}, recall {best['recall']:.2f}."
            + (
                f" copydetect 0.5.0 at its best-F1 threshold ({other['threshold']}): precision "
                f"{other['precision']:.2f}, recall {other['recall']:.2f}."
                if other
                else ""
            ),
            "",
            "| disguise | copies | dlgrade flagged | dlgrade AP | Jaccard AP |"
            + (" copydetect AP |" if other else ""),
            "|---|---|---|---|---|" + ("---|" if other else ""),
        ]
        for transform in TRANSFORMS:
            ours = [r["per_disguise"][transform] for r in mine if transform in r["per_disguise"]]
            theirs = [
                r["jaccard_per_disguise"][transform] for r in mine if transform in r["jaccard_per_disguise"]
            ]
            copies = sum(d["copies"] for d in ours)
            ap = sum(d["average_precision"] * d["copies"] for d in ours) / max(1, copies)  # pooled
            jap = sum(d["average_precision"] * d["copies"] for d in theirs) / max(1, copies)
            found = sum(d["found"] for d in ours)
            if transform == "partial":
                part = [r["partial_findings"] for r in mine]
                found = f"{found}; as partial copies: {sum(p['found'] for p in part)}"
            row = f"| {transform} | {copies} | {found} | {ap:.2f} | {jap:.2f} |"
            if other:
                cd = [r["copydetect_per_disguise"][transform] for r in mine]
                row += f" {sum(d['average_precision'] * d['copies'] for d in cd) / max(1, copies):.2f} |"
            lines.append(row)
        part = [r["partial_findings"] for r in mine]
        lines += [
            "",
            f"Partial-copy findings: {sum(p['pairs_with_findings'] for p in part)} pairs, "
            f"{sum(p['pairs_of_findings_that_are_copies'] for p in part)} of them copies.",
            "",
        ]
    return "\n".join(lines)


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--copies", type=int, default=36, help="copiers in the class (cycling transforms)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[3, 4, 5])
    parser.add_argument("--assignments", nargs="+", default=["a1", "a2"])
    parser.add_argument("--copydetect", metavar="PATH", help="where copydetect 0.5.0 is installed (--target)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results-similarity.json")))
    args = parser.parse_args(argv)
    settings = Settings()
    runs, positives_of = [], {}
    if args.copydetect:
        sys.path.append(args.copydetect)  # after the environment's own packages
    for assignment in args.assignments:
        for seed in args.seeds:
            measured = evaluate(assignment, args.students, args.copies, seed, settings)
            run = {"assignment": assignment, **measured}
            students = make_class(assignment, args.students, args.copies, seed)
            positives_of[(assignment, seed)] = (truth(students), partial_truth(students))
            if args.copydetect:
                run |= copydetect_run(assignment, students)
            print(
                f"{assignment} seed {seed}: precision {run['precision']} recall {run['recall']} "
                f"{run['recall_by_transform']} partial {run['partial_findings']} "
                f"{run['seconds']['total']} s",
                flush=True,
            )
            runs.append(run)
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "settings": asdict(settings),
        "runs": [
            {k: v for k, v in r.items() if k not in ("all_pairs", "jaccard", "copydetect")} for r in runs
        ],
        "sweep": sweep(runs, positives_of, [0.6, 0.7, 0.8, 0.9], [1.0, 2.0, 3.0, 4.0]),
        "jaccard_best_f1": best_f1(runs, positives_of),
        "solutions_only": {a: solutions_only(a, settings) for a in args.assignments},
    }
    if args.copydetect:
        results["copydetect_best_f1"] = best_f1(runs, positives_of, "copydetect")
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps({k: results[k] for k in ("sweep", "jaccard_best_f1", "solutions_only")}))
    print(markdown(results))


if __name__ == "__main__":
    main()
