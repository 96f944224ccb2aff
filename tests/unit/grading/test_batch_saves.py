"""A batch saves as it goes: each result reaches the gradebook first, then one line of the
results journal; the results JSON document is written once, at the end.

Grading itself is replaced by a stand-in that hands back results at once, so these tests
watch only the parent's bookkeeping, the part that made a batch quadratic.
"""

from __future__ import annotations

import json
import sqlite3

import jsonschema
from click.testing import CliRunner

from grader.cli import main
from grader.grading import batch
from grader.intake.submissions import content_hash
from grader.results.records import SCHEMA_PATH, ResultsFile, SubmissionResult, TestResult

STUDENTS = ("alice", "bob", "carol")


def rows(book) -> int:
    with sqlite3.connect(book) as db:
        return db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]


def instant_grade(paths, options, on_result):
    """Grading as a stand-in: one passed test per submission, reported at once."""
    results = []
    for path in paths:
        result = SubmissionResult(
            path, "a1", "graded", tests=(TestResult("test_f", 1.0, "passed"),), sha256=content_hash(path)
        )
        on_result(result)
        results.append(result)
    return results


def test_each_result_is_in_the_gradebook_before_its_journal_line_and_the_document_waits(
    tmp_path, monkeypatch, course
):
    for student in STUDENTS:
        (tmp_path / f"{student}.py").write_text(f"# {student}\n")
    book, out = tmp_path / "book.sqlite", tmp_path / "results.json"
    seen = []  # at each journal line: (gradebook rows, journal lines before it, document written?)
    append = ResultsFile.add

    def add(self, result):
        lines = len(self.journal.read_text().splitlines()) if self.journal.exists() else 0
        seen.append((rows(book), lines, out.exists()))
        append(self, result)

    monkeypatch.setattr(batch, "grade_with", instant_grade)
    monkeypatch.setattr(ResultsFile, "add", add)
    run = CliRunner().invoke(
        main,
        [
            "grade",
            "-a",
            "a1",
            "--gradebook",
            str(book),
            "--json",
            str(out),
            *[str(tmp_path / f"{s}.py") for s in STUDENTS],
        ],
    )
    assert run.exit_code == 0, run.output
    assert seen == [(1, 0, False), (2, 1, False), (3, 2, False)]
    data = json.loads(out.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    assert [r["submission"] for r in data["results"]] == [str(tmp_path / f"{s}.py") for s in STUDENTS]
    assert not (tmp_path / "results.json.partial.jsonl").exists()
