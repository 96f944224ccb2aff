"""Reports read each student's current attempt from SQL, one at a time: the memory they
need grows with the class, not with how many times its students handed in."""

from __future__ import annotations

import tracemalloc

from grader.results.gradebook import Gradebook
from grader.results.records import SubmissionResult, TestResult
from reports.classbook import latest_attempts

STUDENTS = 30


def attempt(student: str, number: int, last: bool) -> SubmissionResult:
    tests = tuple(
        TestResult(
            f"test_{i:02d}",
            1.0,
            "passed" if last or i % 2 else "failed",
            "" if last else f"expected {i} got {i + 1}: " + "x" * 200,
        )
        for i in range(16)
    )
    return SubmissionResult(
        f"{student}-{number}.ipynb",
        "a1",
        "graded",
        tests=tests,
        sha256=f"{student}{number}",
        output="printed\n" * 50,
    )


def gradebook_with_history(path, per_student: int) -> Gradebook:
    book = Gradebook(path)
    book._db.execute("PRAGMA synchronous=OFF")  # only to fill it quickly
    for number in range(per_student):
        handed_in = f"2026-11-{1 + number // 24:02d}T{number % 24:02d}:00:00+00:00"
        for s in range(STUDENTS):
            last = number == per_student - 1
            book.record(
                attempt(f"s{s:02d}", number, last),
                student=f"s{s:02d}",
                suite_version="v1",
                submitted_at=handed_in,
            )
    return book


def peak_bytes_of_reading(book: Gradebook) -> tuple[int, dict]:
    tracemalloc.start()
    try:
        latest = latest_attempts(book)
        return tracemalloc.get_traced_memory()[1], latest
    finally:
        tracemalloc.stop()


def test_a_long_history_costs_reports_no_more_memory_than_a_short_one(tmp_path):
    with (
        gradebook_with_history(tmp_path / "short.sqlite", 2) as short,
        gradebook_with_history(tmp_path / "long.sqlite", 40) as long,
    ):
        short_peak, _ = peak_bytes_of_reading(short)
        long_peak, latest = peak_bytes_of_reading(long)
    assert sorted(latest) == ["a1"] and len(latest["a1"]) == STUDENTS
    last_ones = {f"s{s:02d}-39.ipynb" for s in range(STUDENTS)}
    assert {a.result.submission for a in latest["a1"].values()} == last_ones
    assert all(a.result.score == 16 for a in latest["a1"].values())
    assert long_peak < 1.5 * short_peak, (short_peak, long_peak)  # 20 times the attempts


def test_the_current_attempt_is_the_one_handed_in_last(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        book.record(
            attempt("s1", 2, True), student="s1", suite_version="v1", submitted_at="2026-11-02T00:00:00+00:00"
        )
        book.record(
            attempt("s1", 1, False),
            student="s1",
            suite_version="v1",
            submitted_at="2026-11-01T00:00:00+00:00",
        )  # graded later, handed in earlier
        assert book.latest("a1")["s1"].result.submission == "s1-2.ipynb"
        assert book.assignments() == ["a1"]
