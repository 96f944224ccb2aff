"""Grading results: frozen records that round-trip through JSON (schema in ``schema/``).

Scoring is default-deny: a test earns its points only from an explicit "passed"
outcome recorded by the trusted side; every other outcome, and every test that
never ran, earns 0. The JSON form is versioned by ``SCHEMA_VERSION`` and
described by ``grader/schema/results-v1.schema.json``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.submissions import content_hash

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).parent / "schema" / "results-v1.schema.json"

OUTCOMES = (
    "passed", "failed", "error", "timeout", "crashed", "not_implemented", "missing", "skipped",
)  # fmt: skip
STATUSES = ("graded", "timeout", "killed", "invalid_notebook", "error")


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
        return {**asdict(self), "points": self.points}

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
        data = asdict(self)
        data["tests"] = [test.to_dict() for test in self.tests]
        data["notes"] = list(self.notes)
        return {"submission": self.submission, "score": self.score, "max_score": self.max_score,
                **data}  # fmt: skip

    @classmethod
    def lost(cls, path: str, assignment: str, suite: str, why: str) -> SubmissionResult:
        """A submission whose grading process died under it: an error, to be graded again
        (the gradebook keeps errors out of its up-to-date set)."""
        return cls(submission=path, assignment=assignment, suite=suite, status="error",
                   message=f"{why}; grade this submission again", sha256=content_hash(path))  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> SubmissionResult:
        fields = {k: v for k, v in data.items() if k not in ("score", "max_score")}
        fields["tests"] = tuple(TestResult.from_dict(t) for t in data.get("tests", []))
        fields["notes"] = tuple(data.get("notes", []))
        return cls(**fields)


@dataclass
class ResultsFile:
    """A results JSON file rewritten atomically after every submission, so a batch that
    dies mid-way leaves every finished result readable."""

    path: Path
    assignment: str
    results: list[SubmissionResult] = field(default_factory=list)

    def add(self, result: SubmissionResult) -> None:
        self.results.append(result)
        self.write()

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "assignment": self.assignment,
            "results": [result.to_dict() for result in self.results],
        }

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        with os.fdopen(fd, "w") as handle:
            json.dump(self.to_dict(), handle, indent=2)
        os.replace(tmp, self.path)


def load_results(path: str | Path) -> list[SubmissionResult]:
    data = json.loads(Path(path).read_text())
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"unsupported results schema version {data.get('schema_version')!r}")
    return [SubmissionResult.from_dict(item) for item in data["results"]]
