"""Results are default-deny and round-trip through JSON that matches the schema."""

import json
import os

import jsonschema

from grader.results.records import SCHEMA_PATH, ResultsFile, SubmissionResult, TestResult, load_results


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
    file.write()
    data = json.loads(path.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    assert [r.score for r in load_results(path)] == [2.0, 0.0]
    assert load_results(path)[0] == result("passed", "failed")


def test_results_arrive_as_journal_lines_and_the_document_is_written_once(tmp_path):
    """A batch appends one line per result (constant cost), never rewrites the whole file."""
    path = tmp_path / "results.json"
    file = ResultsFile(path, "a1")
    schema = json.loads(SCHEMA_PATH.read_text())
    one_record = {**schema["$defs"]["submission"], "$defs": schema["$defs"]}
    sizes = []
    for _ in range(3):
        file.add(result("passed", "failed"))
        sizes.append(file.journal.stat().st_size)
    assert not path.exists()  # nothing rewritten per result
    assert sizes == [sizes[0], 2 * sizes[0], 3 * sizes[0]]  # each add appends its own line only
    for line in file.journal.read_text().splitlines():
        jsonschema.validate(json.loads(line), one_record)
    assert load_results(file.journal) == [result("passed", "failed")] * 3  # what a killed batch leaves
    file.write()
    jsonschema.validate(json.loads(path.read_text()), schema)
    assert not file.journal.exists()


def test_a_journal_cut_short_by_a_kill_keeps_its_whole_lines(tmp_path):
    file = ResultsFile(tmp_path / "results.json", "a1")
    file.add(result("passed"))
    file.add(result("failed"))
    file.close()  # the batch stopped
    whole = file.journal.read_text()
    file.journal.write_text(whole[: len(whole) - 20])  # the second line half-written
    assert load_results(file.journal) == [result("passed")]


def test_the_results_document_gets_the_mode_of_any_file_the_user_writes(tmp_path):
    old = os.umask(0o022)
    try:
        file = ResultsFile(tmp_path / "results.json", "a1", [result("passed")])
        file.write()
    finally:
        os.umask(old)
    assert (tmp_path / "results.json").stat().st_mode & 0o777 == 0o644
