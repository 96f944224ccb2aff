"""Plagiarism between teams: rank pairs of submissions by how much graded code they share.

    submission --read_cells, similarity_tokens.functions--> normalised tokens per definition
               --kgram_hashes, winnow-------------------> fingerprints (the template's k-grams removed)
    class      --shared_counts (inverted index)---------> shared fingerprints per pair and definition
               --similarity-----------------------------> pairs ranked, same team skipped, flagged

The compared code is every function and class the released notebook defines (the graded
functions and the helpers the template asks for), found by name, so moving or reordering
them changes nothing. The template's own code is taken out k-gram by k-gram, so stubs,
signatures and given functions do not make everyone look alike; fingerprints that more
than ``Settings.common`` of the class share are ignored too, because code that a fifth of
a class writes the same way (``return x @ w + b``) is convergence, not copying. A pair is
scored definition by definition (``similarity``). ``docs/similarity.md`` explains how to
read the numbers; ``bench/similarity.py`` measures them.

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
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from grader.course import Course
from grader.course_file import CoursePolicy, load_course
from grader.errors import DlgradeError, NotebookError
from grader.notebook import read_cells
from grader.similarity_tokens import Function, Token, definitions, functions, parse_cells
from grader.submissions import discover

Key = tuple[str, int]  # (definition name, k-gram hash)
COMMON_FLOOR = 10  # in a small class nothing is "common": ten submissions may all be one ring
CSV_COLUMNS = ("rank", "student_a", "student_b", "team_a", "team_b", "similarity", "shared",
               "fingerprints_a", "fingerprints_b", "flagged")  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """Detector parameters; the defaults are the ones measured in bench/README.md."""

    k: int = 6  # tokens per k-gram: shorter matches are noise
    window: int = 3  # winnowing window: any match of k + window - 1 tokens is always found
    threshold: float = 0.8  # flag a pair whose similarity is at least this ...
    min_shared: int = 8  # ... and that shares at least this many fingerprints
    common: float = 0.2  # ignore fingerprints found in more than this fraction of the class


@dataclass(frozen=True)
class Fingerprinted:
    """A submission's compared definitions and its fingerprints."""

    student: str
    path: Path
    functions: tuple[Function, ...]
    where: dict[Key, tuple[tuple[int, int], ...]]  # fingerprint -> (definition, first token) of each


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

    @property
    def flagged(self) -> tuple[Pair, ...]:
        return tuple(pair for pair in self.pairs if pair.flagged)


def compare_submissions(arguments: list[str], *, assignment: str, course: Course,
                        settings: Settings = Settings()) -> Report:  # fmt: skip
    """Find the submissions in ``arguments`` (files or folders) and rank their pairs."""
    template = load_template(course.root / "assignments" / assignment / f"{assignment}.ipynb", k=settings.k)
    prints, skipped = [], []
    for submission in discover(arguments, assignment):
        try:
            cells = read_cells(submission.path)
        except NotebookError as exc:
            skipped.append((submission.student, str(exc)))
            continue
        prints.append(fingerprint(submission.student, submission.path, cells, template=template,
                                  settings=settings))  # fmt: skip
    policy = load_course(course.root, missing_ok=True)
    return compare(prints, assignment=assignment, policy=policy, settings=settings,
                   template=template, skipped=skipped)  # fmt: skip


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


def fingerprint(student: str, path: Path, cells: list[str], *, template: Template,
                settings: Settings = Settings()) -> Fingerprinted:  # fmt: skip
    """Winnowed fingerprints of every compared definition; the template's k-grams never count.

    A fingerprint is (definition name, k-gram hash): code counts as shared only between
    definitions of the same name, which is what lets a pair be scored function by function.
    """
    found = functions(cells, template.names)
    where: dict[Key, list[tuple[int, int]]] = defaultdict(list)
    for index, function in enumerate(found):
        hashes = kgram_hashes(function.tokens, settings.k)
        given = [h in template.kgrams for h in hashes]
        for position in winnow(hashes, settings.window, excluded=given):
            where[(function.name, hashes[position])].append((index, position))
    return Fingerprinted(student, Path(path), found, {key: tuple(places) for key, places in where.items()})


def kgram_hashes(tokens: tuple[Token, ...], k: int) -> list[int]:
    """A stable 64-bit hash of every run of ``k`` tokens (stable: the same on every run)."""
    texts = [t.text for t in tokens]
    return [int.from_bytes(hashlib.blake2b("\x1f".join(texts[i : i + k]).encode(), digest_size=8).digest(),
                           "big") for i in range(len(texts) - k + 1)]  # fmt: skip


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


def compare(prints: list[Fingerprinted], *, assignment: str, policy: CoursePolicy,
            settings: Settings = Settings(), template: Template | None = None,
            skipped: list[tuple[str, str]] | None = None) -> Report:  # fmt: skip
    """Rank every pair of submissions from different teams that shares a fingerprint."""
    keys = [frozenset(p.where) for p in prints]
    common = common_fingerprints(keys, settings.common)
    sizes = [Counter(name for name, _ in one - common) for one in keys]
    teams = [policy.team_of(p.student) for p in prints]
    same_team = sum(n * (n - 1) // 2 for n in Counter(teams).values())
    pairs = []
    for (i, j), shared in shared_counts(keys, common).items():
        if teams[i] == teams[j]:
            continue
        score = similarity(shared, sizes[i], sizes[j])
        total = sum(shared.values())
        flagged = score >= settings.threshold and total >= settings.min_shared
        pairs.append(Pair(prints[i].student, prints[j].student, teams[i], teams[j], round(score, 4), total,
                          sum(sizes[i].values()), sum(sizes[j].values()), flagged))  # fmt: skip
    pairs.sort(key=lambda p: (-p.similarity, -p.shared, p.student_a, p.student_b))
    return Report(assignment, settings, tuple(prints), tuple(pairs), tuple(skipped or ()), same_team,
                  template or Template(frozenset(), frozenset()))  # fmt: skip


def similarity(shared: Counter[str], size_a: Counter[str], size_b: Counter[str]) -> float:
    """How much of its definitions the smaller submission shares, definition by definition.

    A definition's score is its shared fingerprints over the fingerprints of the smaller
    version; the pair's is the mean over the definitions of the side that wrote fewer. So a
    copy, which shares every definition, scores near 1, while honest students who converge
    on one long function score only that function's share, and an unfinished notebook that
    copied what it has is not diluted by the other side's extra work. (Weighting one-liners
    less, or scoring by fingerprints overall, measured worse: bench/README.md.)
    """
    written = min(len(size_a), len(size_b))
    if not written:
        return 0.0
    evidence = sum(n / min(size_a[name], size_b[name]) for name, n in shared.items())
    return min(1.0, evidence / written)


def common_fingerprints(keys: list[frozenset[Key]], fraction: float) -> frozenset[Key]:
    """Fingerprints in more than ``fraction`` of the submissions (and in more than COMMON_FLOOR)."""
    limit = max(COMMON_FLOOR, int(fraction * len(keys)))
    counts = Counter(key for one in keys for key in one)
    return frozenset(key for key, n in counts.items() if n > limit)


def shared_counts(keys: list[frozenset[Key]], common: frozenset[Key]) -> dict[tuple[int, int], Counter[str]]:
    """Shared fingerprints per pair and definition, touching only pairs that share one (inverted index)."""
    holders: dict[Key, list[int]] = defaultdict(list)
    for index, one in enumerate(keys):
        for key in one - common:
            holders[key].append(index)
    counts: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    for (name, _), indices in holders.items():
        for pair in combinations(indices, 2):
            counts[pair][name] += 1
    return counts


def write_csv(report: Report, path: str | Path) -> Path:
    """The ranked table: one row per compared pair that shares at least one fingerprint."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for rank, p in enumerate(report.pairs, start=1):
            writer.writerow([rank, p.student_a, p.student_b, p.team_a, p.team_b, f"{p.similarity:.4f}",
                             p.shared, p.fingerprints_a, p.fingerprints_b, int(p.flagged)])  # fmt: skip
    return path
