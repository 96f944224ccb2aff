"""The gradebook keeps every attempt, skips what it has, and survives kill -9."""

import os
import socket
import sqlite3
import subprocess
import sys
from dataclasses import replace

from click.testing import CliRunner
from fake_worker import FakeWorker, one_test_course, submission, use_fake_workers
from gradebook_samples import result
from support import ROOT

from grader.cli import main
from grader.grading.batch import grade_class, submitted_at
from grader.grading.options import GradingOptions
from grader.results.gradebook import SCHEMA, Gradebook, suite_version
from grader.results.records import SubmissionResult

SAMPLES = ROOT / "examples" / "submissions" / "a1"


def test_an_attempt_reads_back_as_it_was_written(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        book.record(result(), student="alice", suite_version="v1", versions={"torch": "x"})
        (attempt,) = book.attempts("a1")
    assert attempt.student == "alice" and attempt.suite_version == "v1" and attempt.versions == {"torch": "x"}
    assert attempt.result == result()
    assert attempt.result.score == 2.0 and attempt.result.max_score == 3.0


def test_the_latest_attempt_per_student_counts(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        book.record(result(outcome="failed"), student="alice", suite_version="v1")
        book.record(result(outcome="passed", sha="def"), student="alice", suite_version="v1")
        assert book.latest("a1")["alice"].result.score == 2.0
        assert "abc" in [a.result.sha256 for a in book.attempts("a1", suite_version="v1")]
        assert book.attempts("a1", suite_version="v2") == []


def test_the_hand_in_time_is_kept_and_an_old_gradebook_gains_the_column(tmp_path):
    path = tmp_path / "book.sqlite"
    with sqlite3.connect(path) as old:  # a gradebook from before submitted_at existed
        old.executescript(SCHEMA.replace(",\n    submitted_at  TEXT NOT NULL DEFAULT ''", ""))
    with Gradebook(path) as book:
        book.record(result(), student="alice", suite_version="v1", submitted_at="2026-11-01T22:59:00+00:00")
        book.record(result(sha="def"), student="bob", suite_version="v1")
        times = {a.student: a.submitted_at for a in book.attempts("a1")}
    assert times == {"alice": "2026-11-01T22:59:00+00:00", "bob": ""}


def test_a_submissions_hand_in_time_is_its_files_modification_time(tmp_path):
    notebook = tmp_path / "alice.ipynb"
    notebook.write_text("{}")
    os.utime(notebook, (1_793_573_940, 1_793_573_940))
    assert submitted_at(notebook) == "2026-11-01T22:59:00+00:00"
    assert submitted_at(tmp_path / "missing.ipynb") == ""


def test_the_suite_version_changes_with_the_content_of_a_file_only(tmp_path):
    (tmp_path / "test_x.py").write_text("def test_x(): pass\n")
    before = suite_version(tmp_path.glob("*.py"), tmp_path)
    os.utime(tmp_path / "test_x.py", (0, 0))
    assert suite_version(tmp_path.glob("*.py"), tmp_path) == before
    (tmp_path / "test_x.py").write_text("def test_x(): assert 1\n")
    assert suite_version(tmp_path.glob("*.py"), tmp_path) != before


# ---------------------------------------------------------------- right by construction


def test_the_current_attempt_is_the_latest_handed_in_then_the_latest_graded(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        day1, day2 = "2026-11-01T10:00:00+00:00", "2026-11-02T10:00:00+00:00"
        book.record(result(sha="late"), student="alice", suite_version="v1", submitted_at=day2)
        book.record(result(sha="early"), student="alice", suite_version="v1", submitted_at=day1)
        book.record(result(sha="one"), student="bob", suite_version="v1", submitted_at=day1)
        book.record(result(sha="two"), student="bob", suite_version="v1", submitted_at=day1)
        latest = book.latest("a1")
    assert latest["alice"].result.sha256 == "late"  # graded first, but handed in last
    assert latest["bob"].result.sha256 == "two"  # handed in together: the one graded last


def test_error_and_lost_attempts_are_never_verdicts_to_reuse(tmp_path):
    lost = SubmissionResult.lost(str(tmp_path / "x.ipynb"), "a1", "hidden", "the grading process died")
    with Gradebook(tmp_path / "book.sqlite") as book:
        book.record(result(sha="ok"), student="alice", suite_version="v1")
        book.record(replace(result(sha="err"), status="error"), student="bob", suite_version="v1")
        book.record(replace(lost, sha256="gone"), student="carol", suite_version="v1")
        assert set(book.verdicts("a1", "v1")) == {("alice", "ok")}


def test_a_student_who_goes_back_to_an_earlier_file_has_it_counted(tmp_path, monkeypatch):
    use_fake_workers(monkeypatch)
    course = one_test_course(tmp_path / "course")
    path = tmp_path / "class" / "alice.py"
    with Gradebook(tmp_path / "book.sqlite") as book:

        def hand_in(answer, day):
            submission(path, answer, mtime=1_793_500_000 + day * 86_400)
            (graded,) = grade_class([str(path)], GradingOptions.of(course, "t9"), gradebook=book)
            return graded

        assert hand_in(42, day=1).result.score == 2  # A
        assert hand_in(41, day=2).result.score == 0  # B
        again = hand_in(42, day=3)  # A again: known content, reused, and now the current attempt
        assert again.reused and again.result.score == 2
        assert book.latest("t9")["alice"].result.score == 2
        assert hand_in(42, day=3).reused  # running again records nothing new
        attempts = book.attempts("t9")
    assert [a.result.score for a in attempts] == [2, 0, 2]


def live_owner(process) -> str:
    """The claim owner string of another process on this machine."""
    from grader.results.gradebook import _start_time

    return f"{socket.gethostname()}:{process.pid}:{_start_time(process.pid)}"


def test_a_student_claimed_by_a_live_batch_is_left_to_it_and_a_dead_ones_claim_is_taken_over(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with Gradebook(tmp_path / "book.sqlite") as first, Gradebook(tmp_path / "book.sqlite") as second:
            first.owner = live_owner(other)
            assert first.claim("a1", ["alice", "bob"]) == set()
            assert second.claim("a1", ["alice", "carol"]) == {"alice"}
            assert second.claimed("a1", ["alice", "bob", "carol"]) == {"alice", "bob"}
            other.kill()
            other.wait()
            assert second.claimed("a1", ["alice", "bob"]) == set()  # its process is gone
            assert second.claim("a1", ["alice"]) == set()
            first.record(result(), student="bob", suite_version="v1")  # recording releases the claim
            claims = first._db.execute("SELECT student FROM claims ORDER BY student").fetchall()
            assert claims == [("alice",), ("carol",)]  # bob's went with his attempt
    finally:
        other.kill()
        other.wait()


# ---------------------------------------------------------------- storage failures: one line, the file named


def assert_one_line_naming(run, path, words: str) -> None:
    assert run.exit_code == 1 and run.exception is None or isinstance(run.exception, SystemExit), run.output
    errors = [line for line in run.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and str(path) in errors[0] and words in errors[0], run.output
    assert "Traceback" not in run.output and "INTERNALERROR" not in run.output


def test_a_gradebook_that_is_not_a_database_is_one_line(tmp_path):
    book = tmp_path / "book.sqlite"
    book.write_bytes(b"this is a CSV export, not a gradebook\n" * 200)
    run = CliRunner().invoke(
        main, ["grade", "-a", "a1", "--gradebook", str(book), str(SAMPLES / "erin.ipynb")]
    )
    assert_one_line_naming(run, book, "not a gradebook")


def test_a_gradebook_locked_by_another_program_is_one_line(tmp_path, monkeypatch):
    book = tmp_path / "book.sqlite"
    Gradebook(book).close()
    monkeypatch.setattr("grader.results.gradebook.LOCK_SECONDS", 0.2)
    holder = sqlite3.connect(book)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        run = CliRunner().invoke(
            main, ["grade", "-a", "a1", "--gradebook", str(book), str(SAMPLES / "erin.ipynb")]
        )
    finally:
        holder.rollback()
        holder.close()
    assert_one_line_naming(run, book, "another program holds it locked")


def test_a_read_only_gradebook_is_one_line_before_anything_is_graded(tmp_path):
    folder = tmp_path / "books"
    book = folder / "book.sqlite"
    with Gradebook(book) as gradebook:
        gradebook.record(result(), student="old", suite_version="v1")
    grade = [
        sys.executable,
        "-m",
        "grader.cli",
        "grade",
        "-a",
        "a1",
        "--gradebook",
        str(book),
        str(SAMPLES / "alice.ipynb"),
    ]
    if os.getuid() == 0:  # root writes through file modes: a read-only mount, as a full or ro disk gives
        remount = f'mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} {folder} && exec "$@"'
        grade = ["unshare", "--mount", "sh", "-c", remount, "sh", *grade]
    else:
        book.chmod(0o444)
        folder.chmod(0o555)
    run = subprocess.run(grade, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert run.stderr.count("\n") == 1 and str(book) in run.stderr and "read-only" in run.stderr, run.stderr
    assert "alice" not in run.stdout  # nothing was graded for nothing


class FillsUp(Gradebook):
    """A gradebook whose disk is full after its first attempt: SQLite's own SQLITE_FULL."""

    def record(self, *args, **kwargs):
        attempt = super().record(*args, **kwargs)
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        self._db.execute(f"PRAGMA max_page_count = {pages}")
        return attempt


class Chatty(FakeWorker):
    printed = b"epoch 1 loss 0.5\n" * 1000  # a result too big for what is left of the disk


def test_a_full_disk_stops_the_batch_in_one_line_and_keeps_what_was_recorded(tmp_path, monkeypatch):
    use_fake_workers(monkeypatch, Chatty)
    monkeypatch.setattr("grader.cli.Gradebook", FillsUp)
    course = one_test_course(tmp_path / "course")
    paths = [str(submission(tmp_path / "class" / f"{name}.py", 42)) for name in ("alice", "bob", "carol")]
    book = tmp_path / "book.sqlite"
    run = CliRunner().invoke(
        main,
        [
            "grade",
            "-a",
            "t9",
            "--course",
            str(course.root),
            "--gradebook",
            str(book),
            "--workers",
            "1",
            *paths,
        ],
    )
    assert_one_line_naming(run, book, "the disk is full")
    assert "bob's result was not saved" in run.output and "bob: " in run.output  # shown, and said unsaved
    assert "carol" not in run.output  # the batch stopped: nothing graded that could not be kept
    with Gradebook(book) as gradebook:
        assert [a.student for a in gradebook.attempts("t9")] == ["alice"]
