"""Feedback that names the bug: the message format, the catalogues, `dlgrade check`, the
student's page and the class overview. Each suite's own catalogue is tested in
tests/suites/test_aN_suite.py (a notebook per misconception, and correct work never named)."""

from datetime import datetime, timezone

import pytest
import tomllib
from support import COURSE

from grader.course.course_file import parse
from grader.course.layout import Course
from grader.misconception_text import key_of, paragraph, split, with_paragraph
from grader.results.gradebook import Gradebook
from grader.results.records import SubmissionResult, TestResult
from grader.selfcheck import check_descriptions
from grader.testing.misconceptions import Catalogue, changed, load_catalogue
from reference.a2 import activations
from reports.classbook import build_report
from reports.feedback import feedback_for
from reports.html import render_overview, render_student
from reports.overview import misconception_counts

ASSIGNMENTS = ("a1", "a2", "a3", "a4", "a5")
ADAM = load_catalogue(COURSE / "suites" / "a4").entries["adam-no-bias-correction"]
MOMENTUM = load_catalogue(COURSE / "suites" / "a4").entries["momentum-sums-gradients"]


# ----------------------------------------------------------------- the message


def test_a_message_led_by_a_misconception_reads_what_where_and_what_to_do():
    message = with_paragraph(ADAM, "Adam: step 1, tensor 0: 3 of 12 values differ")
    assert message.splitlines()[:4] == [
        "Misconception a4/adam-no-bias-correction: Adam without bias correction",
        f"What your code does: {ADAM.did}",
        f"What the handout asks: {ADAM.asks}",
        f"Where to look: {ADAM.look}",
    ]
    assert key_of(message) == ("a4/adam-no-bias-correction", "Adam without bias correction")
    assert split(message) == (paragraph(ADAM), "Adam: step 1, tensor 0: 3 of 12 values differ")


def test_a_message_that_only_looks_like_one_is_never_counted():
    forged = "Misconception a4/adam-no-bias-correction: Adam without bias correction\nwhatever"
    assert key_of(with_paragraph(None, forged)) is None
    assert split("dx: expected shape (6, 5)") == ("", "dx: expected shape (6, 5)")


# ----------------------------------------------------------------- catalogues


def test_a_catalogue_refuses_a_key_twice_and_finds_misconceptions_by_test():
    catalogue = Catalogue("a9")
    add = catalogue.misconception(
        "one", title="t", did="d", asks="a", look="l", tests=["test_x", "test_y[b]"]
    )
    add(lambda student, device, suite: None)
    with pytest.raises(ValueError):
        catalogue.misconception("one", title="t", did="d", asks="a", look="l", tests=[])
    assert [m.key for m in catalogue.for_test("test_x[anything]")] == ["one"]  # every parameter
    assert [m.key for m in catalogue.for_test("test_y[b]")] == ["one"]  # that parameter only
    assert catalogue.for_test("test_y[c]") == []


def test_changed_is_the_reference_with_one_edit_and_leaves_the_reference_alone():
    import torch

    naive = changed(activations, ("return torch.tanh(z)", "return (torch.exp(z) - torch.exp(-z)) / 2"))
    z = torch.tensor([1.0])
    assert naive.tanh(z) == torch.sinh(z) and activations.tanh(z) == torch.tanh(z)
    with pytest.raises(ValueError, match="exactly once"):
        changed(activations, ("return", "yield"))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_catalogue_names_tests_of_its_suite(assignment):
    """A misconception that names a test its suite does not have would never be shown."""
    suite = (COURSE / "suites" / assignment / f"test_{assignment}.py").read_text()
    for misconception in load_catalogue(COURSE / "suites" / assignment):
        for test in misconception.tests:
            assert f"def {test.split('[')[0]}(" in suite, (misconception.key, test)


@pytest.mark.parametrize("assignment", ["a2", "a3", "a4", "a5"])
def test_the_public_checks_use_the_hidden_suites_words(assignment):
    hidden = load_catalogue(COURSE / "suites" / assignment)
    checks = COURSE / "assignments" / assignment / "checks"
    names = set(check_descriptions.describe(checks))
    for misconception in load_catalogue(checks):
        same = hidden.entries[misconception.key]
        assert (misconception.title, misconception.did, misconception.asks, misconception.look) == (
            same.title,
            same.did,
            same.asks,
            same.look,
        )
        assert set(misconception.tests) <= names


# ----------------------------------------------------------------- the student's page and the overview


def failed(name: str, misconception=None) -> TestResult:
    return TestResult(name, 3, "failed", with_paragraph(misconception, f"{name}: 2 of 6 values differ"))


def test_the_students_page_shows_the_misconception_even_where_messages_are_hidden():
    test = failed("test_adam_trajectory", ADAM)
    for visibility in ("messages", "points"):
        shown = feedback_for(test, visibility)
        assert shown.misconception == paragraph(ADAM)
        own = "test_adam_trajectory: 2 of 6 values differ"
        assert shown.message == (own if visibility == "messages" else "")


COURSE_TOML = """
[course]
name = "Misconceptions"
bonus_max = 10

[assignments.a4]
weight = 1

[visibility]
default = "points"
"""


@pytest.fixture
def report(tmp_path):
    """Four students' a4: two without bias correction, one with PyTorch's momentum as well, one right."""
    policy = parse(tomllib.loads(COURSE_TOML))
    now = datetime(2026, 12, 1, tzinfo=timezone.utc).isoformat()
    tests = {
        "ann": [failed("test_adam_trajectory", ADAM), failed("test_keeps_dtype[torch.float32]", ADAM)],
        "ben": [failed("test_adam_trajectory", ADAM), failed("test_momentum_trajectory", MOMENTUM)],
        "cat": [TestResult("test_adam_trajectory", 3, "passed"), failed("test_zero_grad")],
        "dan": [TestResult("test_adam_trajectory", 3, "passed")],
    }
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        for student, results in tests.items():
            result = SubmissionResult(f"{student}.ipynb", "a4", "graded", tuple(results))
            book.record(result, student=student, suite_version="v1", versions={}, submitted_at=now)
        return build_report(book, policy)


def test_the_overview_counts_each_misconception_once_per_submission(report):
    counts = [(c.id, c.submissions, c.total) for c in misconception_counts(report, "a4")]
    assert counts == [("a4/adam-no-bias-correction", 2, 4), ("a4/momentum-sums-gradients", 1, 4)]
    html = render_overview(report)
    assert "Misconceptions: what to re-teach" in html
    assert "Adam without bias correction" in html and "2 / 4 (50%)" in html


def test_the_students_page_renders_the_misconception(report):
    ann = next(s for s in report.students if s.student == "ann")
    html = render_student(report, ann)
    assert 'class="misconception"' in html and "What the handout asks: with the step count t" in html


def test_a_broken_catalogue_is_a_broken_suite(tmp_path):
    from grader.errors import SuiteError
    from grader.grading.grade import grade

    course = tmp_path / "course"
    (course / "suites" / "a9").mkdir(parents=True)
    (course / "reference").mkdir()
    (course / "suites" / "a9" / "test_a9.py").write_text(
        "import pytest\n\n@pytest.mark.points(1)\ndef test_x(student):\n    pass\n"
    )
    (course / "suites" / "a9" / "misconceptions.py").write_text("CATALOGUE = 3\n")
    submission = tmp_path / "s.py"
    submission.write_text("x = 1\n")
    with pytest.raises(SuiteError, match="misconceptions.py"):
        grade([str(submission)], assignment="a9", course=Course(course))
