"""The HTML view of flagged pairs: both submissions side by side, the evidence explained.

One self-contained file (no scripts, fonts or style sheets from elsewhere), so that it can
be opened offline or mailed. Student code reaches the page only through jinja2's
autoescaping: a submission that contains ``</pre><script>`` shows those characters.

Per pair: each function's score and whether it was scored; then the code, function by
function (the students' own helpers together in one row). Marked is the student's text of
every statement that lies in a run of ``k`` canonical tokens both hold and the template does
not: marked as *rare* where few in the class have that run, as *common* where many do (it
counts little). Comments, docstrings and the ``def`` line are never marked, and functions
both students left as the template gave them are folded away.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import jinja2

from grader.similarity.fingerprints import (
    HELPERS,
    Fingerprinted,
    FunctionScore,
    Pair,
    Report,
    kgram_hashes,
    rarity,
)
from grader.similarity.tokens import Function

TEMPLATES = Path(__file__).with_name("templates")
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)

Span = tuple[int, int]


COMMON_BELOW = 0.5  # a shared run whose rarity weight is below this is marked as common in the class
RARE, COMMON = "rare", "common"


@dataclass(frozen=True)
class Segment:
    text: str
    shared: bool
    kind: str = ""  # RARE or COMMON where shared


@dataclass(frozen=True)
class Row:
    """One function name (or the helpers), as each side of the pair wrote it."""

    name: str
    left: tuple[tuple[Segment, ...], ...]  # one block per definition (helpers: several)
    right: tuple[tuple[Segment, ...], ...]
    score: FunctionScore | None = None
    folded: bool = False  # both left it as the template gave it
    helpers: bool = False


@dataclass(frozen=True)
class PairView:
    pair: Pair
    anchor: str
    path_a: str
    path_b: str
    rows: tuple[Row, ...]


def render(report: Report, *, limit: int | None = None) -> str:
    """The page for every flagged pair of ``report`` (the first ``limit`` of them, if given)."""
    by_student = {s.student: s for s in report.submissions}
    flagged = report.flagged[:limit] if limit is not None else report.flagged
    holders = class_holders(report) if flagged else Counter()
    views = [
        pair_view(p, by_student[p.student_a], by_student[p.student_b], report, n, holders)
        for n, p in enumerate(flagged, start=1)
    ]
    left_out = len(report.flagged) - len(flagged)
    return _ENV.get_template("similarity.html").render(
        report=report, views=views, left_out=left_out, partials=report.partials[:limit]
    )


def write_html(report: Report, path: str | Path, *, limit: int | None = None) -> Path:
    path = Path(path)
    path.write_text(render(report, limit=limit), encoding="utf-8")
    return path


def _group(function: Function) -> str:
    return HELPERS if function.helper else function.name


def class_holders(report: Report) -> Counter:
    """How many submissions hold each (function, k-gram): what "common in the class" means on the page."""
    holders: Counter = Counter()
    for submission in report.submissions:
        k = report.settings.k
        holders.update({(_group(f), h) for f in submission.functions for h in kgram_hashes(f.tokens, k)})
    return holders


def pair_view(
    pair: Pair,
    a: Fingerprinted,
    b: Fingerprinted,
    report: Report,
    number: int,
    holders: Counter | None = None,
) -> PairView:
    holders = holders if holders is not None else class_holders(report)
    marks_a, marks_b = shared_marks(a.functions, b.functions, report, holders)
    scores = {s.name: s for s in pair.functions}
    rows = []
    graded = sorted({f.name for f in (*a.functions, *b.functions) if not f.helper})
    for name in graded:
        left = [f for f in a.functions if f.name == name and not f.helper]
        right = [f for f in b.functions if f.name == name and not f.helper]
        folded = all(_untouched(f, report) for f in left + right)
        rows.append(Row(name, _blocks(left, marks_a), _blocks(right, marks_b), scores.get(name), folded))
    left = [f for f in a.functions if f.helper]
    right = [f for f in b.functions if f.helper]
    if left or right:
        rows.append(
            Row(
                "helpers (the students' own functions)",
                _blocks(left, marks_a),
                _blocks(right, marks_b),
                scores.get(HELPERS),
                helpers=True,
            )
        )
    return PairView(pair, f"pair-{number}", str(a.path), str(b.path), tuple(rows))


def _untouched(function: Function, report: Report) -> bool:
    return set(kgram_hashes(function.tokens, report.settings.k)) <= report.template.kgrams


def _blocks(functions: list[Function], marks: dict[int, list[tuple[int, int, str]]]) -> tuple:
    return tuple(segments(f.source, marks.get(id(f), [])) for f in functions)


def shared_marks(
    left: tuple[Function, ...], right: tuple[Function, ...], report: Report, holders: Counter
) -> tuple[dict, dict]:
    """Where each side holds a run the other side holds too (same function, or both helpers)."""
    k, given = report.settings.k, report.template.kgrams
    hashes = {id(f): kgram_hashes(f.tokens, k) for f in (*left, *right)}

    def held(side: tuple[Function, ...]) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        for f in side:
            out.setdefault(_group(f), set()).update(hashes[id(f)])
        return out

    in_left, in_right = held(left), held(right)
    size = len(report.submissions)
    weight = {key: rarity(n, size) for key, n in holders.items()}

    def marks(side: tuple[Function, ...], other: dict[str, set[int]]) -> dict[int, list]:
        out = {}
        for f in side:
            theirs = other.get(_group(f), set()) - given
            out[id(f)] = _token_marks(f, hashes[id(f)], theirs, weight, k)
        return out

    return marks(left, in_right), marks(right, in_left)


def _token_marks(function: Function, hashes: list[int], theirs: set[int], weight: dict, k: int) -> list:
    """(start, end, kind) of each token inside a shared run; the ``def`` line is never marked."""
    kinds: dict[int, str] = {}
    group = _group(function)
    for i, h in enumerate(hashes):
        if h not in theirs:
            continue
        kind = RARE if weight.get((group, h), 1.0) >= COMMON_BELOW else COMMON
        for j in range(i, i + k):
            if kinds.get(j) != RARE:
                kinds[j] = kind
    header = function.tokens[0] if function.tokens else None
    spans = [(function.tokens[j].start, function.tokens[j].end, kind) for j, kind in sorted(kinds.items())]
    return [s for s in spans if header is None or s[:2] != (header.start, header.end)]


def merge(spans: list[Span]) -> list[Span]:
    """Overlapping or touching spans as one, in order."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _bridge_spaces(source: str, kind_at: list[str]) -> None:
    """Mark the spaces between two marked tokens of one kind on one line (never comments or newlines)."""
    i = 0
    while i < len(source):
        if kind_at[i] or source[i] != " " or i == 0 or not kind_at[i - 1]:
            i += 1
            continue
        end = i
        while end < len(source) and source[end] == " " and not kind_at[end]:
            end += 1
        if end < len(source) and kind_at[end] == kind_at[i - 1]:
            kind_at[i:end] = [kind_at[i - 1]] * (end - i)
        i = end


def segments(source: str, spans: list) -> tuple[Segment, ...]:
    """The source cut into plain and marked pieces (their texts join back to ``source``).

    ``spans`` are (start, end) or (start, end, kind); where a rare and a common span
    overlap, rare wins.
    """
    kind_at = [""] * len(source)
    for span in sorted(spans, key=lambda s: s[2] == RARE if len(s) > 2 else True):
        start, end = span[0], span[1]
        kind = span[2] if len(span) > 2 else RARE
        for i in range(max(0, start), min(end, len(source))):
            kind_at[i] = kind
    _bridge_spaces(source, kind_at)
    pieces: list[Segment] = []
    at = 0
    while at < len(source):
        end = at
        while end < len(source) and kind_at[end] == kind_at[at]:
            end += 1
        pieces.append(Segment(source[at:end], bool(kind_at[at]), kind_at[at]))
        at = end
    return tuple(pieces)
