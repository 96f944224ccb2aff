"""Plagiarism between teams: rank pairs of submissions by how much rare graded code they share.

    submission --read_cells, similarity_tokens.functions--> canonical tokens per definition (+ helpers)
               --kgram_hashes, winnow-------------------> fingerprints (the template's k-grams removed)
    class      --rarity_weights-------------------------> how unlikely each fingerprint is in this class
               --shared_weights (inverted index)--------> rare shared code per pair and definition
               --function_scores, similarity, evidence--> pairs ranked, same team skipped, flagged
               --partial_copies-------------------------> long rare functions shared whole, apart

The compared code is every function and class the released notebook defines (the graded
functions and the helpers the template asks for), found by name, so moving or reordering
them changes nothing; the student's own helpers are inlined where called and compared as
one group. The template's own code is taken out k-gram by k-gram, so stubs, signatures and
given functions do not make everyone look alike. Every other fingerprint counts by its
rarity (an inverse document frequency), so code much of the class writes the same way
counts little, with no hard line. A pair is scored function by function, only on functions
with rare code on both sides, and flagged only on several functions' worth of rare shared
code. ``docs/similarity.md`` explains how to read the numbers; ``bench/similarity.py``
measures them.

Why the winnowing is written here (a dozen lines) rather than taken from the package index,
measured in bench/README.md ("Similarity"): ``winnowing`` 0.2.1 (2019, unmaintained) hashes
characters, drops operators and keeps 16-bit hashes. ``copydetect`` 0.5.0 is maintained,
but as a detector (pygments tokens at the character level: numbers kept, every name and
attribute one letter, whole-file scores) it found far fewer disguised copies at any
threshold, ran 3-5 times slower, and brings 186 MB of dependencies (matplotlib, pillow);
importing even ``copydetect.utils`` imports matplotlib. Its winnowing function alone would
select the same fingerprints as ``winnow`` below, apart from the minima of the partial
windows at the start. What decides the quality is the Python-aware normalisation and the
per-definition score, which no package offers.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations
from pathlib import Path

from grader.course.course_file import CoursePolicy, load_course
from grader.course.layout import Course
from grader.errors import DlgradeError, NotebookError
from grader.intake.notebook import read_cells
from grader.intake.submissions import Submission, content_hash, discover, export_name, parse_name, student_id
from grader.similarity.tokens import Function, Token, definitions, functions, parse_cells

Key = tuple[str, int]  # (definition name, k-gram hash); every helper of a student is HELPERS
HELPERS = "(helpers)"  # the student's own functions are compared as one group: their names are free
RARITY_FLOOR = 50  # a class smaller than this is weighed as if it had 50: ten may all be one ring
CSV_COLUMNS = (
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
)


@dataclass(frozen=True)
class Settings:
    """Detector parameters; the defaults are the ones measured in bench/README.md."""

    k: int = 6  # tokens per k-gram: shorter matches are noise
    window: int = 3  # winnowing window: any match of k + window - 1 tokens is always found
    threshold: float = 0.9  # flag a pair whose similarity is at least this ...
    min_evidence: float = 3.0  # ... on at least this many functions' worth of rare shared code
    unit: float = 3.0  # rarity-weighted shared fingerprints that make one function's worth of evidence
    min_mass: float = 1.0  # a function is scored when both versions have this much rare code
    partial_mass: float = 20.0  # a function this rare and long, shared nearly whole, is a partial copy
    partial_share: float = 0.9  # "nearly whole"
    partial_rarity: float = 0.8  # the mean weight of its shared fingerprints: held by few others


@dataclass(frozen=True)
class Fingerprinted:
    """A submission's compared definitions and its fingerprints."""

    student: str
    path: Path
    functions: tuple[Function, ...]
    where: dict[Key, tuple[tuple[int, int], ...]]  # fingerprint -> (definition, first token) of each

    @cached_property
    def written(self) -> frozenset[str]:
        """The compared names this submission wrote beyond the template (HELPERS for its helpers)."""
        return frozenset(name for name, _ in self.where)


@dataclass(frozen=True)
class FunctionScore:
    """How one function (or the helpers) of a pair was scored."""

    name: str
    score: float  # rare shared code over the rarer side's rare code, 0 to 1
    shared: float  # rarity-weighted shared fingerprints
    mass: float  # rarity-weighted fingerprints of the version with fewer
    counted: bool  # False: too little rare code on one side (template or class-common): not scored


@dataclass(frozen=True)
class Pair:
    student_a: str
    student_b: str
    team_a: str
    team_b: str
    similarity: float
    shared: int
    fingerprints_a: int
    fingerprints_b: int
    flagged: bool
    evidence: float = 0.0  # functions' worth of rare shared code
    scored: int = 0  # functions scored ...
    compared: int = 0  # ... of the functions both wrote
    functions: tuple[FunctionScore, ...] = ()


@dataclass(frozen=True)
class Partial:
    """One long, rare function shared nearly whole by a pair that is not flagged as a whole."""

    student_a: str
    student_b: str
    function: str
    score: float
    mass: float


@dataclass(frozen=True)
class Template:
    """The released notebook: which definitions are compared, and the k-grams everyone was given."""

    names: frozenset[str]
    kgrams: frozenset[int]


@dataclass(frozen=True)
class Report:
    assignment: str
    settings: Settings
    submissions: tuple[Fingerprinted, ...]
    pairs: tuple[Pair, ...]  # ranked, most similar first; pairs sharing nothing are left out
    skipped: tuple[tuple[str, str], ...] = ()  # (student, why)
    same_team: int = 0  # pairs never compared because both students are in one team
    template: Template = field(default_factory=lambda: Template(frozenset(), frozenset()))
    partials: tuple[Partial, ...] = ()  # ranked, longest rare function first
    notes: tuple[str, ...] = ()  # about the input: duplicate and identical files

    @property
    def flagged(self) -> tuple[Pair, ...]:
        return tuple(pair for pair in self.pairs if pair.flagged)


def compare_submissions(
    arguments: list[str], *, assignment: str, course: Course, settings: Settings = Settings()
) -> Report:
    """Find the submissions in ``arguments`` (files or folders) and rank their pairs."""
    template = load_template(course.root / "assignments" / assignment / f"{assignment}.ipynb", k=settings.k)
    found = discover(arguments, assignment)
    if not found:
        raise DlgradeError(
            f"no {assignment} submissions (*.ipynb) in {', '.join(arguments)}: nothing to compare"
        )
    notes = duplicate_notes(arguments, assignment, found)
    found, identical = without_resubmissions(found)
    prints, skipped = [], []
    for submission in found:
        try:
            cells = read_cells(submission.path)
        except NotebookError as exc:
            skipped.append((submission.student, str(exc)))
            continue
        prints.append(
            fingerprint(submission.student, submission.path, cells, template=template, settings=settings)
        )
    policy = load_course(course.root, missing_ok=True)
    return compare(
        prints,
        assignment=assignment,
        policy=policy,
        settings=settings,
        template=template,
        skipped=skipped,
        notes=(*notes, *identical),
    )


def duplicate_notes(arguments: list[str], assignment: str, kept: list[Submission]) -> list[str]:
    """One line per student with several notebooks, saying which one is compared."""
    chosen = {s.student: s.path for s in kept}
    files: dict[str, list[Path]] = defaultdict(list)
    for argument in arguments:
        root = Path(argument)
        candidates = sorted(root.rglob("*.ipynb")) if root.is_dir() else [root]
        for path in candidates:
            relative = path.relative_to(root) if root.is_dir() else Path(path.name)
            if (
                any(part.startswith(".") for part in relative.parts)
                or not path.is_file()
                or path.is_symlink()
            ):
                continue
            name = parse_name(relative.parts[0]) if len(relative.parts) > 1 else export_name(path, assignment)
            files[student_id(name, None, {})].append(path)
    return [
        f"{student} handed in {len(paths)} notebooks ({', '.join(p.name for p in paths)}); compared: "
        f"{chosen[student].name}"
        for student, paths in sorted(files.items())
        if len(paths) > 1 and student in chosen
    ]


def without_resubmissions(found: list[Submission]) -> tuple[list[Submission], list[str]]:
    """Byte-identical notebooks whose names say one student (``alice``, ``alice_resubmit``): one is kept.

    Such files are one student's resubmission, never a pair. Identical files of two
    unrelated names stay: that is a verbatim copy, and it is noted.
    """
    by_content: dict[str, list[Submission]] = defaultdict(list)
    for submission in found:
        digest = content_hash(submission.path)
        if digest:
            by_content[digest].append(submission)
    dropped: set[str] = set()
    notes: list[str] = []
    for group in by_content.values():
        if len(group) < 2:
            continue
        group = sorted(group, key=lambda s: (len(s.student), s.student))
        first = group[0]
        same = [s for s in group[1:] if _one_student(first.student, s.student)]
        others = [s for s in group[1:] if s not in same]
        if same:
            dropped.update(s.student for s in same)
            notes.append(
                f"{', '.join(s.path.name for s in same)} byte-identical to {first.path.name}: one "
                f"student's resubmission, compared once as {first.student}"
            )
        if others:
            notes.append(
                f"byte-identical notebooks of different students: "
                f"{', '.join(sorted(s.path.name for s in [first, *others]))}"
            )
    return [s for s in found if s.student not in dropped], notes


def _one_student(a: str, b: str) -> bool:
    """``alice`` and ``alice_resubmit`` (or ``alice-2``, ``alice.v2``): one name extends the other."""
    short, long = sorted((a.lower(), b.lower()), key=len)
    return long.startswith(short) and long[len(short) : len(short) + 1] in ("_", "-", ".", " ", "(")


def load_template(path: Path, *, k: int) -> Template:
    """The released (student) notebook of an assignment, e.g. ``assignments/a1/a1.ipynb``."""
    try:
        cells = parse_cells(read_cells(path))
    except NotebookError as exc:
        raise DlgradeError(f"no released notebook to compare against at {path}: {exc}") from None
    names = frozenset(definitions(cells, _everything(cells)))
    if not names:
        raise DlgradeError(f"the released notebook {path} defines no function or class to compare")
    given = functions([c.source for c in cells], names)
    return Template(names, frozenset(h for f in given for h in kgram_hashes(f.tokens, k)))


def _everything(cells) -> frozenset[str]:
    return frozenset(getattr(node, "name", "") for cell in cells for node in cell.tree.body) - {""}


def fingerprint(
    student: str, path: Path, cells: list[str], *, template: Template, settings: Settings = Settings()
) -> Fingerprinted:
    """Winnowed fingerprints of every compared definition; the template's k-grams never count.

    A fingerprint is (definition name, k-gram hash): code counts as shared only between
    definitions of the same name, which is what lets a pair be scored function by function.
    """
    found = functions(cells, template.names, with_helpers=True)
    where: dict[Key, list[tuple[int, int]]] = defaultdict(list)
    for index, function in enumerate(found):
        hashes = kgram_hashes(function.tokens, settings.k)
        given = [h in template.kgrams for h in hashes]
        for position in winnow(hashes, settings.window, excluded=given):
            where[(HELPERS if function.helper else function.name, hashes[position])].append((index, position))
    return Fingerprinted(student, Path(path), found, {key: tuple(places) for key, places in where.items()})


def kgram_hashes(tokens: tuple[Token, ...], k: int) -> list[int]:
    """A stable 64-bit hash of every run of ``k`` tokens (stable: the same on every run)."""
    texts = [t.text for t in tokens]
    return [
        int.from_bytes(hashlib.blake2b("\x1f".join(texts[i : i + k]).encode(), digest_size=8).digest(), "big")
        for i in range(len(texts) - k + 1)
    ]


def winnow(hashes: list[int], window: int, *, excluded: list[bool] | None = None) -> list[int]:
    """Winnowing (Schleimer, Wilkerson, Aiken 2003): the positions of the fingerprints.

    In every window of ``window`` consecutive hashes the smallest is selected (the rightmost
    of equal ones; the set of hashes is the same as robust winnowing's), so any match at
    least ``k + window - 1`` tokens long shares a fingerprint. Excluded positions (the
    template's k-grams) are never selected. A sequence shorter than one window is one window.
    """
    excluded = excluded or [False] * len(hashes)
    width = min(window, len(hashes))
    chosen = set()
    for start in range(len(hashes) - width + 1):
        inside = [(hashes[i], -i) for i in range(start, start + width) if not excluded[i]]
        if inside:
            chosen.add(-min(inside)[1])
    return sorted(chosen)


def compare(
    prints: list[Fingerprinted],
    *,
    assignment: str,
    policy: CoursePolicy,
    settings: Settings = Settings(),
    template: Template | None = None,
    skipped: list[tuple[str, str]] | None = None,
    notes: tuple[str, ...] = (),
) -> Report:
    """Rank every pair of submissions from different teams that shares rare code."""
    keys = [frozenset(p.where) for p in prints]
    weights = rarity_weights(keys)
    masses = [_masses(one, weights) for one in keys]
    teams = [policy.team_of(p.student) for p in prints]
    same_team = sum(n * (n - 1) // 2 for n in Counter(teams).values())
    pairs, partials = [], []
    for (i, j), shared in shared_weights(keys, weights).items():
        if teams[i] == teams[j]:
            continue
        scores = function_scores(shared, masses[i], masses[j], settings)
        pair = _pair(prints[i], prints[j], teams[i], teams[j], scores, keys[i] & keys[j], settings)
        pairs.append(pair)
        if not pair.flagged:
            partials += partial_copies(pair, settings, keys[i] & keys[j], weights)
    pairs.sort(key=rank_key)
    partials.sort(key=lambda p: (-p.mass, -p.score, p.student_a, p.student_b, p.function))
    return Report(
        assignment,
        settings,
        tuple(prints),
        tuple(pairs),
        tuple(skipped or ()),
        same_team,
        template or Template(frozenset(), frozenset()),
        tuple(partials),
        tuple(notes),
    )


def rank_key(pair: Pair) -> tuple:
    """Flagged first, then by similarity (to two places), then by the amount of rare evidence."""
    return (not pair.flagged, -round(pair.similarity, 2), -pair.evidence, pair.student_a, pair.student_b)


def rarity_weights(keys: list[frozenset[Key]]) -> dict[Key, float]:
    """How unlikely each fingerprint is in this class, 0 (everyone wrote it) to 1 (only a pair did).

    An inverse document frequency, log(n / df) scaled so that a fingerprint two students
    share weighs 1: code that many students write the same way (``return torch.sigmoid(z)``,
    the lecture's snippet) weighs little, with no hard line. A class under RARITY_FLOOR is
    weighed as one of that size.
    """
    counts = Counter(key for one in keys for key in one)
    return {key: rarity(n, len(keys)) for key, n in counts.items()}


def rarity(holders: int, class_size: int) -> float:
    """The weight of code that ``holders`` of ``class_size`` submissions have (see rarity_weights)."""
    size = max(class_size, RARITY_FLOOR)
    return min(1.0, max(0.0, math.log(size / max(holders, 1)) / math.log(size / 2)))


def _masses(keys: frozenset[Key], weights: dict[Key, float]) -> dict[str, float]:
    masses: defaultdict[str, float] = defaultdict(float)
    for key in keys:
        masses[key[0]] += weights[key]
    return masses


def function_scores(
    shared: dict[str, float], mass_a: dict[str, float], mass_b: dict[str, float], settings: Settings
) -> tuple[FunctionScore, ...]:
    """Per function both wrote: the share of the rarer side's rare code that the other has."""
    scores = []
    for name in sorted(set(mass_a) & set(mass_b)):
        mass = min(mass_a[name], mass_b[name])
        common = shared.get(name, 0.0)
        score = min(1.0, common / mass) if mass else 0.0
        scores.append(
            FunctionScore(name, round(score, 4), round(common, 3), round(mass, 3), mass >= settings.min_mass)
        )
    return tuple(scores)


def similarity(scores: tuple[FunctionScore, ...]) -> float:
    """The mean score of the functions scored (those with enough rare code on both sides).

    A function that one side wrote the way most of the class did carries no evidence
    either way and is left out, rather than counted as unshared or as shared. The students'
    own helpers (already inlined where called) add evidence but never lower the mean: a
    copier who adds a helper of their own does not escape by it.
    """
    counted = [s.score for s in scores if s.counted and s.name != HELPERS]
    helpers = [s.score for s in scores if s.counted and s.name == HELPERS]
    mean = sum(counted) / len(counted) if counted else 0.0
    if helpers and (not counted or helpers[0] > mean):
        return (sum(counted) + helpers[0]) / (len(counted) + 1)
    return mean


def evidence(scores: tuple[FunctionScore, ...], unit: float) -> float:
    """Functions' worth of rare shared code: each scored function adds up to 1.

    A function adds its rare shared code in units of ``unit`` (at most one), times its
    score: a function shared whole counts fully, a few shared fragments of an otherwise
    different function count little, however long it is.
    """
    return sum(min(1.0, s.shared / unit) * s.score for s in scores if s.counted)


def _pair(
    a: Fingerprinted,
    b: Fingerprinted,
    team_a: str,
    team_b: str,
    scores: tuple[FunctionScore, ...],
    common: frozenset[Key],
    settings: Settings,
) -> Pair:
    score, amount = similarity(scores), evidence(scores, settings.unit)
    flagged = score >= settings.threshold and round(amount, 1) >= settings.min_evidence  # as printed
    scored, compared = sum(s.counted for s in scores), len(a.written & b.written)
    return Pair(
        a.student,
        b.student,
        team_a,
        team_b,
        round(score, 4),
        len(common),
        len(a.where),
        len(b.where),
        flagged,
        round(amount, 2),
        scored,
        compared,
        scores,
    )


def partial_copies(
    pair: Pair, settings: Settings, common: frozenset[Key], weights: dict[Key, float]
) -> list[Partial]:
    """The long, rare functions of ``pair`` shared nearly whole.

    Long: at least ``partial_mass`` of rare code on both sides. Rare: the fingerprints the
    pair shares in it weigh ``partial_rarity`` on average, so few others hold them; a long
    function that a tenth of the class wrote the same way (the lecture's version) is not one.
    """
    found = []
    for s in pair.functions:
        if not (s.counted and s.mass >= settings.partial_mass and s.score >= settings.partial_share):
            continue
        mine = [weights[key] for key in common if key[0] == s.name]
        if mine and sum(mine) / len(mine) >= settings.partial_rarity:
            found.append(Partial(pair.student_a, pair.student_b, s.name, s.score, s.mass))
    return found


def shared_weights(
    keys: list[frozenset[Key]], weights: dict[Key, float]
) -> dict[tuple[int, int], dict[str, float]]:
    """Rarity-weighted shared fingerprints per pair and definition (an inverted index).

    Fingerprints of almost no weight (most of the class has them) are skipped: they would
    touch nearly every pair and add nothing."""
    holders: dict[Key, list[int]] = defaultdict(list)
    for index, one in enumerate(keys):
        for key in one:
            if weights[key] > 0.05:
                holders[key].append(index)
    shared: dict[tuple[int, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for key, indices in holders.items():
        weight = weights[key]
        for pair in combinations(indices, 2):
            shared[pair][key[0]] += weight
    return shared


def write_csv(report: Report, path: str | Path) -> Path:
    """The ranked table: one row per compared pair that shares at least one fingerprint."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for rank, p in enumerate(report.pairs, start=1):
            writer.writerow(
                [
                    rank,
                    p.student_a,
                    p.student_b,
                    p.team_a,
                    p.team_b,
                    f"{p.similarity:.4f}",
                    f"{p.evidence:.2f}",
                    p.scored,
                    p.compared,
                    p.shared,
                    p.fingerprints_a,
                    p.fingerprints_b,
                    int(p.flagged),
                ]
            )
    return path
