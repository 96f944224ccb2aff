"""Results are default-deny and round-trip through JSON that matches the schema."""

import json

import jsonschema

from grader.results import SCHEMA_PATH, ResultsFile, SubmissionResult, TestResult, load_results


def result(*outcomes):
    tests = tuple(TestResult(f"t{i}", 2.0, outcome) for i, outcome in enumerate(outcomes))
    return SubmissionResult("alice.ipynb", "a1", "graded", tests=tests, notes=("n",))


def test_points_come_only_from_an_explicit_pass():
    graded = result("passed", "failed", "timeout", "error", "crashed", "skipped", "not_implemented")
    assert graded.score == 2.0 and graded.max_score == 14.0


def test_a_submission_without_tests_scores_zero():
    assert SubmissionResult("x.ipynb", "a1", "invalid_notebook").score == 0


def test_results_file_is_valid_and_round_trips(tmp_path):
    path = tmp_path / "out" / "results.json"
    file = ResultsFile(path, "a1")
    file.add(result("passed", "failed"))
    file.add(SubmissionResult("junk.ipynb", "a1", "invalid_notebook", message="not JSON"))
    data = json.loads(path.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    assert [r.score for r in load_results(path)] == [2.0, 0.0]
    assert load_results(path)[0] == result("passed", "failed")
