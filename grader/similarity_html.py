"""The HTML view of flagged pairs: both submissions side by side, shared code highlighted.

One self-contained file (no scripts, fonts or style sheets from elsewhere), so that it can
be opened offline or mailed. Student code reaches the page only through jinja2's
autoescaping: a submission that contains ``</pre><script>`` shows those characters.

A region is highlighted where both submissions hold the same run of ``k`` normalised
tokens that the template does not, every such run, not only the winnowed fingerprints,
so what is marked reads as the copy. Definitions are lined up by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from grader.similarity import Fingerprinted, Pair, Report, kgram_hashes
from grader.similarity_tokens import Function

TEMPLATES = Path(__file__).with_name("templates")
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                          undefined=jinja2.StrictUndefined, keep_trailing_newline=True)  # fmt: skip

Span = tuple[int, int]


@dataclass(frozen=True)
class Segment:
    text: str
    shared: bool


@dataclass(frozen=True)
class Row:
    """One definition name, as each side of the pair wrote it (empty where missing)."""

    name: str
    left: tuple[Segment, ...]
    right: tuple[Segment, ...]


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
    views = [pair_view(p, by_student[p.student_a], by_student[p.student_b], report, n)
             for n, p in enumerate(flagged, start=1)]  # fmt: skip
    left_out = len(report.flagged) - len(flagged)
    return _ENV.get_template("similarity.html").render(report=report, views=views, left_out=left_out)


def write_html(report: Report, path: str | Path, *, limit: int | None = None) -> Path:
    path = Path(path)
    path.write_text(render(report, limit=limit), encoding="utf-8")
    return path


def pair_view(pair: Pair, a: Fingerprinted, b: Fingerprinted, report: Report, number: int) -> PairView:
    k, given = report.settings.k, report.template.kgrams
    spans_a, spans_b = shared_spans(a.functions, b.functions, k=k, given=given)
    sources_a = {f.name: f.source for f in a.functions}
    sources_b = {f.name: f.source for f in b.functions}
    rows = tuple(Row(name, segments(sources_a.get(name, ""), spans_a.get(name, [])),
                     segments(sources_b.get(name, ""), spans_b.get(name, [])))
                 for name in sorted(set(sources_a) | set(sources_b)))  # fmt: skip
    return PairView(pair, f"pair-{number}", str(a.path), str(b.path), rows)


def shared_spans(left: tuple[Function, ...], right: tuple[Function, ...], *, k: int,
                 given: frozenset[int]) -> tuple[dict[str, list[Span]], dict[str, list[Span]]]:  # fmt: skip
    """Where each side holds a k-gram the other side also holds, by definition name."""
    hashes_left = {f.name: kgram_hashes(f.tokens, k) for f in left}
    hashes_right = {f.name: kgram_hashes(f.tokens, k) for f in right}
    in_left = {h for hs in hashes_left.values() for h in hs} - given
    in_right = {h for hs in hashes_right.values() for h in hs} - given
    return (_spans(left, hashes_left, in_right, k), _spans(right, hashes_right, in_left, k))


def _spans(functions: tuple[Function, ...], hashes: dict[str, list[int]], other: set[int],
           k: int) -> dict[str, list[Span]]:  # fmt: skip
    spans: dict[str, list[Span]] = {}
    for function in functions:
        found = [(function.tokens[i].start, function.tokens[i + k - 1].end)
                 for i, h in enumerate(hashes[function.name]) if h in other]  # fmt: skip
        spans[function.name] = merge(found)
    return spans


def merge(spans: list[Span]) -> list[Span]:
    """Overlapping or touching spans as one, in order."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def segments(source: str, spans: list[Span]) -> tuple[Segment, ...]:
    """The source cut into plain and shared pieces (their texts join back to ``source``)."""
    pieces, at = [], 0
    for start, end in spans:
        if start > at:
            pieces.append(Segment(source[at:start], False))
        pieces.append(Segment(source[start:end], True))
        at = end
    if at < len(source):
        pieces.append(Segment(source[at:], False))
    return tuple(pieces)
