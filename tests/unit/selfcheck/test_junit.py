"""JUnit XML against the schema CI systems read: Jenkins' junit-10.xsd (tests/schemas/SOURCE.md)."""

import xml.etree.ElementTree as ET

import pytest
import xmlschema
from support import ROOT

from grader.results.records import SubmissionResult, TestResult
from grader.selfcheck.junit import write_junit

SCHEMA = ROOT / "tests" / "schemas" / "junit-10.xsd"
OUTCOMES = ("passed", "failed", "not_implemented", "missing", "timeout", "crashed", "error", "skipped")

EVERY_OUTCOME = SubmissionResult(
    "alice.ipynb",
    "a1",
    "graded",
    suite="public",
    seconds=1.25,
    tests=tuple(
        TestResult(f"test_{outcome}", 1, outcome, f"{outcome}: a message\nwith a second line")
        for outcome in OUTCOMES
    ),
)
NOT_A_NOTEBOOK = SubmissionResult(
    "erin.ipynb",
    "a1",
    "invalid_notebook",
    message="the file is empty",
    suite="public",
    tests=(TestResult("test_passed", 1, "skipped", "not run"),),
)
CONTROL_CHARACTERS = SubmissionResult(
    "bob.ipynb",
    "a1",
    "graded",
    suite="hidden",
    tests=(TestResult("test_output", 2, "failed", "printed \x00\x07\x1b[31mred\x1b[0m"),),
)


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(SCHEMA))


def test_every_outcome_an_ungradable_submission_and_control_characters_are_valid_junit(tmp_path, schema):
    path = write_junit([EVERY_OUTCOME, NOT_A_NOTEBOOK, CONTROL_CHARACTERS], tmp_path / "junit.xml")
    schema.validate(str(path))  # raises, with the first error, when the file is not valid


def test_points_travel_as_suite_properties_and_counts_are_right(tmp_path):
    root = ET.parse(write_junit([EVERY_OUTCOME, NOT_A_NOTEBOOK], tmp_path / "junit.xml")).getroot()
    assert {k: root.get(k) for k in ("tests", "failures", "errors")} == {
        "tests": "10",
        "failures": "6",
        "errors": "1",
    }
    alice = root.find("testsuite[@name='alice.ipynb']")
    assert alice.get("skipped") == "1"
    properties = {p.get("name"): p.get("value") for p in alice.iter("property")}
    assert properties["test_failed.points"] == "0" and properties["test_failed.max_points"] == "1"
    assert properties["points"] == "1" and properties["max_points"] == "8"
