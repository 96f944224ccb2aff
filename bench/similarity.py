"""Precision, recall and speed of ``dlgrade similarity`` on a generated class.

    python bench/similarity.py                                  # a1 and a2, 300 students, seeds 3-5
    pip install --target /tmp/copydetect-env copydetect==0.5.0  # optional: the library it was weighed against
    python bench/similarity.py --copydetect /tmp/copydetect-env

The class: ``bench/similarity_corpus/aN/sNN.py`` holds ten complete, correct solutions per
assignment, written by one person (the author of this file) in deliberately different
styles; that they are not ten people's work is the bench's main weakness. An honest
student takes each function from one of the ten at random, so honest students share
whole functions by chance (harsher than a real class for long functions, about right for
one-liners). A copier takes an honest student's notebook and disguises it with one
transformation (``TRANSFORMS``), or all of them at once. Ground truth: a pair is a copy
exactly when one submission was made from the other. Precision and recall are over
pairs, at the defaults of ``grader.similarity.Settings``, which were chosen on seeds 1
and 2; the reported seeds are 3 to 5.
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
sys.path.insert(0, str(ROOT))

from grader.course import Course  # noqa: E402
from grader.course_file import CoursePolicy  # noqa: E402
from grader.notebook import read_cells  # noqa: E402
from grader.similarity import Report, Settings, compare, compare_submissions, fingerprint, load_template  # noqa: E402
from grader.similarity_html import render  # noqa: E402
from grader.similarity_tokens import parse_cells  # noqa: E402
from grader.submissions import discover  # noqa: E402

CORPUS = Path(__file__).with_name("similarity_corpus")
TRANSFORMS = ("rename", "reorder", "comments", "dead_code", "literals", "all")
WORDS = ("value", "tmp", "acc", "data", "item", "res", "out_", "thing", "vec", "mat", "cur", "aux", "q",
         "alpha_", "beta_", "foo", "bar", "node", "elem", "store", "holder", "my_var", "temp2")  # fmt: skip


@dataclass
class Student:
    """A submission before it is written: imports, and definitions in notebook order."""

    name: str
    imports: list[str]
    definitions: list[tuple[str, str]]  # (name, source)
    copied_from: str | None = None
    transform: str | None = None
    cell_layout: list[list[int]] = field(default_factory=list)  # definition indices per cell


# ----------------------------------------------------------------------------- the class


def solutions(assignment: str) -> list[tuple[list[str], dict[str, str]]]:
    """The ten solutions of an assignment: (import lines, {name: source of the def})."""
    found = []
    for path in sorted((CORPUS / assignment).glob("s*.py")):
        text = path.read_text()
        tree = ast.parse(text)
        imports = [ast.get_source_segment(text, n) for n in tree.body
                   if isinstance(n, ast.Import | ast.ImportFrom)]  # fmt: skip
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
    definitions += [(function, corpus[index][1][function]) for function, index in chosen.items()]
    return Student(name, imports, definitions)


def copier(name: str, source: Student, transform: str, rng: random.Random) -> Student:
    steps = ["rename", "reorder", "comments", "dead_code", "literals"] if transform == "all" else [transform]
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
    copied = [copier(f"c{i:03d}", src, TRANSFORMS[i % len(TRANSFORMS)], rng) for i, src in enumerate(sources)]
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


COMMENTS = ("# compute the result", "# TODO: check shapes", "# this is my own implementation",
            "# vectorised for speed", "# see lecture 3", "# edge case")  # fmt: skip


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
DEAD = ("_unused = None", "if False:\n    print('debug')", "for _ in range(0):\n    pass", "assert True",
        "print('checking shapes')", "verbose = False\nif verbose:\n    print('step')",
        "assert len(str(1)) == 1")  # fmt: skip


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


STEPS = {"rename": rename, "reorder": reorder, "comments": comments, "dead_code": dead_code,
         "literals": literals}  # fmt: skip


# ----------------------------------------------------------------------------- measuring


def truth(students: list[Student]) -> set[frozenset[str]]:
    return {frozenset((s.name, s.copied_from)) for s in students if s.copied_from}


def scores(flagged: set[frozenset[str]], positives: set[frozenset[str]]) -> dict:
    hits = flagged & positives
    return {"flagged": len(flagged), "true_positives": len(hits),
            "precision": round(len(hits) / len(flagged), 4) if flagged else 1.0,
            "recall": round(len(hits) / len(positives), 4) if positives else 1.0}  # fmt: skip


def recall_by_transform(students: list[Student], flagged: set[frozenset[str]]) -> dict[str, str]:
    out = {}
    for transform in TRANSFORMS:
        pairs = [frozenset((s.name, s.copied_from)) for s in students if s.transform == transform]
        out[transform] = f"{sum(p in flagged for p in pairs)}/{len(pairs)}"
    return out


def run_dlgrade(assignment: str, folder: Path, settings: Settings) -> tuple[Report, dict[str, float]]:
    """The detector as ``dlgrade similarity`` runs it, timed by phase."""
    start = time.perf_counter()
    template = load_template(ROOT / "assignments" / assignment / f"{assignment}.ipynb", k=settings.k)
    prints = [fingerprint(s.student, s.path, read_cells(s.path), template=template, settings=settings)
              for s in discover([str(folder)], assignment)]  # fmt: skip
    fingerprinted = time.perf_counter()
    report = compare(prints, assignment=assignment, policy=CoursePolicy(), settings=settings,
                     template=template)
    compared = time.perf_counter()
    render(report)
    done = time.perf_counter()
    naive = naive_all_pairs(prints)
    return report, {"read_and_fingerprint": round(fingerprinted - start, 2),
                    "pairs_inverted_index": round(compared - fingerprinted, 2),
                    "html": round(done - compared, 2), "total": round(done - start, 2),
                    "pairs_naive_for_comparison": naive}  # fmt: skip


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
    demo = read_cells(ROOT / "assignments" / assignment / f"{assignment}.ipynb")[-1]
    with tempfile.TemporaryDirectory() as tmp:
        for student in students:
            write_notebook(student, Path(tmp), demo)
        report, seconds = run_dlgrade(assignment, Path(tmp), settings)
    flagged = {frozenset((p.student_a, p.student_b)) for p in report.flagged}
    positives = truth(students)
    false = [p for p in report.flagged if frozenset((p.student_a, p.student_b)) not in positives]
    graded = graded_of(solutions(assignment))
    return {"seed": seed, "students": size, "copies": copies, "pairs": size * (size - 1) // 2,
            **scores(flagged, positives), "recall_by_transform": recall_by_transform(students, flagged),
            "false_positives_by_identical_functions": identical_histogram(students, false, graded),
            "honest_pairs_by_identical_functions": identical_histogram(students, None, graded),
            "false_positives": [(p.student_a, p.student_b, p.similarity, p.shared) for p in false][:10],
            "missed": _missed(report, positives, flagged), "seconds": seconds,
            "all_pairs": [(p.student_a, p.student_b, p.similarity, p.shared)
                          for p in report.pairs]}  # fmt: skip


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
        missed.append((*sorted(pair), p.similarity if p else 0.0, p.shared if p else 0))
    return sorted(missed)


def sweep(runs: list[dict], positives_of: dict, thresholds: list[float], min_shared: int) -> dict:
    """Precision and recall per assignment at other thresholds, from the similarities already computed."""
    table: dict[str, list[dict]] = {}
    for assignment in sorted({run["assignment"] for run in runs}):
        mine = [run for run in runs if run["assignment"] == assignment]
        table[assignment] = [_at(threshold, mine, positives_of, min_shared) for threshold in thresholds]
    return table


def _at(threshold: float, runs: list[dict], positives_of: dict, min_shared: int) -> dict:
    tp = fp = pos = 0
    for run in runs:
        positives = positives_of[(run["assignment"], run["seed"])]
        flagged = {frozenset((a, b)) for a, b, s, n in run["all_pairs"]
                   if s >= threshold and n >= min_shared}  # fmt: skip
        tp, fp, pos = tp + len(flagged & positives), fp + len(flagged - positives), pos + len(positives)
    return {"threshold": threshold, "precision": round(tp / max(1, tp + fp), 4),
            "recall": round(tp / max(1, pos), 4), "false_positives": fp}  # fmt: skip


def solutions_only(assignment: str, settings: Settings) -> dict:
    """The ten solutions alone: how similar do genuinely independent solutions look?"""
    corpus = solutions(assignment)
    demo = read_cells(ROOT / "assignments" / assignment / f"{assignment}.ipynb")[-1]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (imports, defs) in enumerate(corpus, start=1):
            write_notebook(Student(f"s{i:02d}", imports, list(defs.items())), Path(tmp), demo)
        report = compare_submissions([tmp], assignment=assignment, course=Course(ROOT), settings=settings)
    top = report.pairs[:3]
    return {"pairs": 45, "flagged": len(report.flagged),
            "most_similar": [(p.student_a, p.student_b, p.similarity, p.shared) for p in top]}  # fmt: skip


def copydetect_similarities(assignment: str, students: list[Student], k: int, window: int) -> tuple:
    """copydetect 0.5.0 on the same extracted definitions, the template as its boilerplate.

    It gets this module's extraction (definitions by name, sorted), so reordering is
    handled for it too; the tokenizing, fingerprinting and scoring are its own. A pair's
    similarity is the larger of its two percentages, as its report ranks them.
    """
    import io  # noqa: PLC0415
    from itertools import combinations  # noqa: PLC0415

    from copydetect import CodeFingerprint, compare_files  # noqa: PLC0415

    from grader.similarity_tokens import definitions  # noqa: PLC0415

    template_cells = parse_cells(read_cells(ROOT / "assignments" / assignment / f"{assignment}.ipynb"))
    names = frozenset(n.name for c in template_cells for n in c.tree.body if hasattr(n, "name"))

    def code(cells: list[str]) -> str:
        found = definitions(parse_cells(cells), names)
        return "\n\n".join(found[n] for n in sorted(found))

    boilerplate = CodeFingerprint("t.py", k, window, fp=io.StringIO(code([c.source for c in template_cells])),
                                  language="python").hashes  # fmt: skip
    start = time.perf_counter()
    prints = {}
    for st in students:
        cells = ["\n".join(st.imports)] + [source for _, source in st.definitions]
        prints[st.name] = CodeFingerprint(f"{st.name}.py", k, window, boilerplate=list(boilerplate),
                                          fp=io.StringIO(code(cells)), language="python")  # fmt: skip
    pairs = []
    for a, b in combinations(sorted(prints), 2):
        _, (s1, s2), _ = compare_files(prints[a], prints[b])
        pairs.append((a, b, float(max(s1, s2))))
    return pairs, round(time.perf_counter() - start, 2)


def compare_with_copydetect(args: argparse.Namespace, positives_of: dict) -> dict:
    """copydetect at its defaults (k = 25 characters, window 1, display at 0.33), and at other thresholds."""
    sys.path.append(args.copydetect)  # after the environment's own packages
    out = {}
    for assignment in args.assignments:
        for seed in args.seeds:
            students = make_class(assignment, args.students, args.copies, seed)
            pairs, seconds = copydetect_similarities(assignment, students, k=25, window=1)
            positives = positives_of[(assignment, seed)]
            rows = []
            for threshold in (0.33, 0.5, 0.6, 0.7, 0.8, 0.9):
                flagged = {frozenset((a, b)) for a, b, s in pairs if s >= threshold}
                rows.append({"threshold": threshold, **scores(flagged, positives),
                             "recall_by_transform": recall_by_transform(students, flagged)})  # fmt: skip
            out[f"{assignment} seed {seed}"] = {"seconds": seconds, "thresholds": rows}
            best = max(rows, key=lambda r: _f1(r["precision"], r["recall"]))
            print(f"copydetect {assignment} seed {seed}: {seconds} s; at 0.33 P {rows[0]['precision']} "
                  f"R {rows[0]['recall']}; best F1 at {best['threshold']}: P {best['precision']} "
                  f"R {best['recall']} {best['recall_by_transform']}", flush=True)  # fmt: skip
    return out


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--copies", type=int, default=30, help="copiers in the class (cycling transforms)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[3, 4, 5])
    parser.add_argument("--assignments", nargs="+", default=["a1", "a2"])
    parser.add_argument("--copydetect", metavar="PATH", help="where copydetect 0.5.0 is installed (--target)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results-similarity.json")))
    args = parser.parse_args(argv)
    settings = Settings()
    runs, positives_of = [], {}
    for assignment in args.assignments:
        for seed in args.seeds:
            measured = evaluate(assignment, args.students, args.copies, seed, settings)
            run = {"assignment": assignment, **measured}
            positives_of[(assignment, seed)] = truth(make_class(assignment, args.students, args.copies, seed))
            print(f"{assignment} seed {seed}: precision {run['precision']} recall {run['recall']} "
                  f"{run['recall_by_transform']} {run['seconds']}", flush=True)  # fmt: skip
            runs.append(run)
    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
               "settings": asdict(settings),
               "runs": [{k: v for k, v in r.items() if k != "all_pairs"} for r in runs],
               "sweep": sweep(runs, positives_of, [0.5, 0.6, 0.7, 0.8, 0.9], settings.min_shared),
               "solutions_only": {a: solutions_only(a, settings) for a in args.assignments}}  # fmt: skip
    if args.copydetect:
        results["copydetect"] = compare_with_copydetect(args, positives_of)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps({k: results[k] for k in ("sweep", "solutions_only")}, indent=1))


if __name__ == "__main__":
    main()
