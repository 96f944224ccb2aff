"""The grading options: one object, its defaults written once, plain data across hosts."""

import json
from dataclasses import fields

import pytest
from support import COURSE

from grader.course.layout import Course
from grader.grading.options import GradingOptions
from grader.sandbox.limits import Limits


def test_every_field_travels_as_plain_json_and_comes_back_equal():
    options = GradingOptions.of(
        Course(COURSE),
        "a1",
        suite="public",
        mode="all",
        device="cuda:1",
        workers=3,
        limits=Limits(test_seconds=2.5, memory_mb=512),
        scheduler="tcp://h:8786",
        min_workers=4,
        force=True,
        warm=False,
        preflight=True,
        hide=("/a", "/b"),
        devices=("cuda:1",),
    )
    plain = json.loads(json.dumps(options.to_plain()))  # what a Dask task carries: JSON, no pickle
    assert GradingOptions.from_plain(plain) == options
    assert {f.name for f in fields(GradingOptions)} == set(plain)  # no field left behind


def test_a_plain_request_with_a_field_this_dlgrade_does_not_know_is_refused():
    plain = GradingOptions.of(Course(COURSE), "a1").to_plain()
    with pytest.raises(ValueError, match="unknown grading options: colour"):
        GradingOptions.from_plain({**plain, "colour": "red"})


def test_checking_resolves_the_device_once_and_keeps_it():
    options = GradingOptions.of(Course(COURSE), "a1", device="auto").checked()
    assert options.devices and options.checked() is options  # a second check does nothing again


def test_checking_refuses_an_unknown_assignment_before_any_work():
    from grader.errors import SuiteError

    with pytest.raises(SuiteError, match="no hidden suite for assignment 'a9'"):
        GradingOptions.of(Course(COURSE), "a9").checked()


def test_on_a_cluster_the_device_is_checked_here_and_resolved_on_the_workers():
    options = GradingOptions.of(Course(COURSE), "a1", device="cuda", scheduler="tcp://h:8786").checked()
    assert options.devices == ("cuda",)  # this machine may have no GPU


def test_the_reference_goes_first_for_the_hidden_suite_unless_told():
    course = Course(COURSE)
    assert GradingOptions.of(course, "a1").reference_first
    assert not GradingOptions.of(course, "a1", suite="public").reference_first
    assert not GradingOptions.of(course, "a1", preflight=False).reference_first
