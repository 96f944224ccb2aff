"""Grading results: frozen records that round-trip through JSON (schema in ``schema/``).

Scoring is default-deny: a test earns its points only from an explicit "passed"
outcome recorded by the trusted side; every other outcome, and every test that
never ran, earns 0. The JSON form is versioned by ``SCHEMA_VERSION`` and
described by ``grader/results/schema/results-v1.schema.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from grader import safe_text
from grader.intake.submissions import content_hash

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).parent / "schema" / "results-v1.schema.json"
JOURNAL_SUFFIX = ".partial.jsonl"  # results.json -> results.json.partial.jsonl, while a batch runs

OUTCOMES = (
    "passed",
    "failed",
    "error",
    "timeout",
    "crashed",
    "not_implemented",
    "missing",
    "skipped",
)
STATUSES = ("graded", "timeout", "killed", "invalid_notebook", "refused", "error")


@dataclass(frozen=True)
class TestResult:
    """One hidden test's verdict on one submission."""

    __test__ = False  # not a pytest test class

    name: str
    max_points: float
    outcome: str
    message: str = ""

    @property
    def points(self) -> float:
        return self.max_points if self.outcome == "passed" else 0.0

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "max_points": self.max_points,
            "outcome": self.outcome,
            "message": self.message,
            "points": self.points,
        }

    @classmethod
    def from_dict(cls, data: dict) -> TestResult:
        return cls(data["name"], data["max_points"], data["outcome"], data.get("message", ""))


@dataclass(frozen=True)
class SubmissionResult:
    """Everything dlgrade says about one submitted file."""

    submission: str
    assignment: str
    status: str
    tests: tuple[TestResult, ...] = ()
    message: str = ""
    notes: tuple[str, ...] = ()
    output: str = ""
    seconds: float = 0.0
    sha256: str = ""
    suite: str = "hidden"

    @property
    def score(self) -> float:
        return sum(test.points for test in self.tests)

    @property
    def max_score(self) -> float:
        return sum(test.max_points for test in self.tests)

    def to_dict(self) -> dict:
        """The results-v1 record; built field by field (``dataclasses.asdict`` deep-copies, and
        cost a millisecond per result)."""
        return {
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "assignment": self.assignment,
            "status": self.status,
            "tests": [test.to_dict() for test in self.tests],
            "message": self.message,
            "notes": list(self.notes),
            "output": self.output,
            "seconds": self.seconds,
            "sha256": self.sha256,
            "suite": self.suite,
        }

    @classmethod
    def lost(cls, path: str, assignment: str, suite: str, why: str) -> SubmissionResult:
        """A submission whose grading process died under it: an error, to be graded again
        (the gradebook keeps errors out of its up-to-date set)."""
        return cls(
            submission=path,
            assignment=assignment,
            suite=suite,
            status="error",
            message=f"{why}; grade this submission again",
            sha256=content_hash(path),
        )

    @classmethod
    def from_dict(cls, data: dict) -> SubmissionResult:
        fields = {k: v for k, v in data.items() if k not in ("score", "max_score")}
        fields["tests"] = tuple(TestResult.from_dict(t) for t in data.get("tests", []))
        fields["notes"] = tuple(data.get("notes", []))
        return cls(**fields)


@dataclass
class ResultsFile:
    """The results JSON of a batch, kept linear in the size of the class.

    While the batch runs, each result is appended as one JSON line to the journal beside
    the file (``results.json.partial.jsonl``): a constant cost per result, and a batch
    that dies mid-way leaves every finished result readable there (``load_results``
    reads it). The results-v1 document itself is written once, at the end (``write``),
    atomically, and then the journal is removed. Rewriting the whole document after
    every result made a batch quadratic: 265 ms per rewrite at 1000 results.
    """

    path: Path
    assignment: str
    results: list[SubmissionResult] = field(default_factory=list)
    _journal: TextIO | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def journal(self) -> Path:
        return self.path.with_name(self.path.name + JOURNAL_SUFFIX)

    def add(self, result: SubmissionResult) -> None:
        """Append one result to the journal: one line, flushed, whatever came before."""
        self.results.append(result)
        if self._journal is None:  # a journal left by a batch that died is started afresh
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._journal = open(self.journal, "w", encoding="utf-8")  # noqa: SIM115 (closed in write)
        self._journal.write(json.dumps(_record(result)) + "\n")
        self._journal.flush()

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "assignment": self.assignment,
            "results": [_record(result) for result in self.results],
        }

    def document(self) -> str:
        """``to_dict`` as text, one result a line: readable, and encoded by json's C encoder
        (``indent`` would switch to its pure-Python one, 2 ms a result)."""
        head = json.dumps({"schema_version": SCHEMA_VERSION, "assignment": self.assignment})
        records = ",\n".join(json.dumps(_record(result)) for result in self.results)
        return f'{head[:-1]}, "results": [\n{records}\n]}}\n'

    def write(self) -> None:
        """Write the results-v1 document once, atomically; the journal is then redundant."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:  # the umask's mode, like any file it writes
            handle.write(self.document())
        os.replace(tmp, self.path)
        self.close()
        self.journal.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop appending (a batch that stops early keeps its journal for ``load_results``)."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None


def _record(result: SubmissionResult) -> dict:
    """A result as the file holds it: every text its student controls made safe for the
    programs that read it (strict UTF-8 JSON, no terminal escapes: ``safe_text``)."""
    return safe_text.result(result).to_dict()


def load_results(path: str | Path) -> list[SubmissionResult]:
    """The results of a results-v1 document, or of a journal a batch left (one result a line)."""
    path = Path(path)
    if path.name.endswith(JOURNAL_SUFFIX):
        return [SubmissionResult.from_dict(data) for data in _journal_lines(path)]
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"unsupported results schema version {data.get('schema_version')!r}")
    return [SubmissionResult.from_dict(item) for item in data["results"]]


def _journal_lines(path: Path) -> list[dict]:
    """Each whole line of a journal; a last line cut short by a kill is left out."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number < len(lines):
                raise
    return records
