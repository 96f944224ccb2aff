"""dlgrade's own failures are `error`, never the student's `failed`: statuses and exit codes."""

from click.testing import CliRunner
from fake_worker import BrokenSeeding, FakeWorker, one_test_course, submission, use_fake_workers

from grader.cli import main
from grader.grading.grade import grade
from grader.results.gradebook import Gradebook


def test_a_worker_that_cannot_seed_gives_error_not_failed(tmp_path, monkeypatch):
    use_fake_workers(monkeypatch, BrokenSeeding)
    course = one_test_course(tmp_path / "course")
    (result,) = grade([str(submission(tmp_path / "alice.py", 42))], assignment="t9", course=course)
    (test,) = result.tests
    assert test.outcome == "error" and "seeding the worker failed" in test.message
    assert "No module named 'numpy.random'" in test.message
    assert result.status == "error" and "grade again" in result.message


def test_the_same_submission_with_a_working_worker_gets_its_points(tmp_path, monkeypatch):
    use_fake_workers(monkeypatch, FakeWorker)
    course = one_test_course(tmp_path / "course")
    (result,) = grade([str(submission(tmp_path / "alice.py", 42))], assignment="t9", course=course)
    assert result.status == "graded" and result.score == 2


def test_check_says_could_not_check_and_exits_2_when_seeding_fails(tmp_path, monkeypatch):
    use_fake_workers(monkeypatch, BrokenSeeding)
    course = one_test_course(tmp_path / "course")
    path = submission(tmp_path / "alice.py", 42)
    run = CliRunner().invoke(main, ["check", "--assignment", "t9", "--course", str(course.root), str(path)])
    assert run.exit_code == 2, run.output
    assert "could not check: error" in run.output


def test_ci_exits_2_when_seeding_fails(tmp_path, monkeypatch):
    use_fake_workers(monkeypatch, BrokenSeeding)
    course = one_test_course(tmp_path / "course")
    path = submission(tmp_path / "alice.py", 42)
    run = CliRunner().invoke(main, ["ci", "--assignment", "t9", "--course", str(course.root), str(path)])
    assert run.exit_code == 2, run.output


def test_grade_exits_2_naming_who_could_not_be_graded(tmp_path, monkeypatch):
    use_fake_workers(monkeypatch, BrokenSeeding)
    course = one_test_course(tmp_path / "course")
    path = submission(tmp_path / "class" / "alice.py", 42)
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
            str(path),
        ],
    )
    assert run.exit_code == 2, run.output
    assert "1 submission(s) could not be graded" in run.output and "alice" in run.output
    assert "Run the same command again" in run.output


def test_an_error_is_graded_again_by_the_next_run_never_reused(tmp_path, monkeypatch):
    course = one_test_course(tmp_path / "course")
    path = submission(tmp_path / "class" / "alice.py", 42)
    book = tmp_path / "book.sqlite"
    command = [
        "grade",
        "-a",
        "t9",
        "--course",
        str(course.root),
        "--gradebook",
        str(book),
        "--workers",
        "1",
        str(path),
    ]
    use_fake_workers(monkeypatch, BrokenSeeding)
    assert CliRunner().invoke(main, command).exit_code == 2
    use_fake_workers(monkeypatch, FakeWorker)  # the machine is fixed
    again = CliRunner().invoke(main, command)
    assert again.exit_code == 0, again.output
    assert "from the gradebook" not in again.output and "2/2 [graded]" in again.output
    with Gradebook(book) as gradebook:
        assert [a.result.status for a in gradebook.attempts("t9")] == ["error", "graded"]
        assert gradebook.latest("t9")["alice"].result.score == 2
