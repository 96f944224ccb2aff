"""Results as JUnit XML, the report format every CI system can show.

One ``<testsuite>`` per submission, one ``<testcase>`` per test. An outcome maps to
the element CI systems know: ``failed`` to ``<failure>``; ``skipped`` to
``<skipped>``; every other outcome that is not ``passed`` (not implemented, missing,
timeout, crashed, error) to ``<failure>`` too, typed by the outcome, because each
is the submission's fault. A submission that could not be graded at all (not a
notebook, killed while loading) gets ``<error>`` on a ``load`` case: that is the
one place where the grader, not a test, is the one that did not get through.

The file is valid against Jenkins' JUnit schema (``junit-10.xsd``, checked in
tests/unit/selfcheck/test_junit.py), which most CI systems' readers accept: ``<testsuites>`` carries
only tests, failures and errors (no ``skipped``), and a ``<testcase>`` has no
``<properties>``. Points therefore travel in the ``<testsuite>``'s properties: the
submission's ``points`` and ``max_points``, and each test's as ``TEST.points`` and
``TEST.max_points``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from grader.results.records import SubmissionResult, TestResult


def junit_tree(results: Sequence[SubmissionResult]) -> ET.ElementTree:
    root = ET.Element("testsuites", name="dlgrade")
    for result in results:
        root.append(_suite(result))
    _count(root, [case for suite in root for case in suite.iter("testcase")], kinds=("failures", "errors"))
    return ET.ElementTree(root)


def write_junit(results: Sequence[SubmissionResult], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = junit_tree(results)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path


def _suite(result: SubmissionResult) -> ET.Element:
    suite = ET.Element("testsuite", name=result.submission, time=f"{result.seconds:.3f}")
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("assignment", result.assignment),
        ("suite", result.suite),
        ("status", result.status),
        ("points", f"{result.score:g}"),
        ("max_points", f"{result.max_score:g}"),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    for test in result.tests:
        ET.SubElement(properties, "property", name=f"{test.name}.points", value=f"{test.points:g}")
        ET.SubElement(properties, "property", name=f"{test.name}.max_points", value=f"{test.max_points:g}")
    if result.status != "graded":
        case = ET.SubElement(suite, "testcase", classname=_classname(result), name="load")
        message = _clean(result.message)
        ET.SubElement(case, "error", type=result.status, message=message).text = message
    for test in result.tests:
        suite.append(_case(result, test))
    _count(suite, list(suite.iter("testcase")))
    return suite


def _case(result: SubmissionResult, test: TestResult) -> ET.Element:
    case = ET.Element("testcase", classname=_classname(result), name=test.name)
    if test.outcome == "skipped":
        ET.SubElement(case, "skipped", message=_clean(test.message))
    elif test.outcome != "passed":
        first_line = _clean(test.message).split("\n", 1)[0]
        ET.SubElement(case, "failure", type=test.outcome, message=first_line).text = _clean(test.message)
    return case


COUNTS = {"failures": "failure", "errors": "error", "skipped": "skipped"}


def _count(element: ET.Element, cases: list[ET.Element], kinds: tuple[str, ...] = tuple(COUNTS)) -> None:
    """The counts of ``cases`` as attributes: ``<testsuites>`` may not carry ``skipped``."""
    element.set("tests", str(len(cases)))
    for kind in kinds:
        element.set(kind, str(sum(case.find(COUNTS[kind]) is not None for case in cases)))


def _classname(result: SubmissionResult) -> str:
    return f"{result.assignment}.{result.suite}"


def _clean(text: str) -> str:
    """XML 1.0 cannot hold most control characters, which a student's output may contain."""
    return "".join(ch for ch in text if ch in "\t\n\r" or ch >= " ")
