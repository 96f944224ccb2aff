"""The course file: what a course's policy says, and the mistakes it refuses."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from grader.course.course_file import CourseFileError, CoursePolicy, load, load_course, parse

EXAMPLE = """
[course]
name = "Deep Learning 2026"
bonus_max = 10
rounding = 0.5

[assignments.a1]
weight = 1
deadline = 2026-11-01T23:59:00+01:00

[assignments.a2]
weight = 2
max_points = 30

[late]
per_day = 0.1
cutoff_days = 5

[visibility]
default = "points"
a1 = "messages"

[teams]
ravens = ["alice", "bob", "carol"]
owls = ["dave"]

[students]
alice = "Alice Smith"
"""


def test_an_example_course_file_reads_as_written(tmp_path):
    (tmp_path / "course.toml").write_text(EXAMPLE)
    policy = load_course(tmp_path)
    assert policy.name == "Deep Learning 2026"
    cet = timezone(timedelta(hours=1))
    assert policy.assignments["a1"].deadline == datetime(2026, 11, 1, 23, 59, tzinfo=cet)
    assert policy.assignments["a2"].weight == 2 and policy.assignments["a2"].max_points == 30
    assert policy.late.per_day == 0.1 and policy.late.cutoff_days == 5
    assert policy.visibility_of("a1") == "messages" and policy.visibility_of("a2") == "points"
    assert policy.name_of("alice") == "Alice Smith" and policy.name_of("bob") == "bob"


def test_teams_share_and_a_student_alone_is_a_team_of_one(tmp_path):
    policy = parse({"teams": {"ravens": ["alice", "bob", "carol"]}})
    assert policy.team_of("bob") == "ravens"
    assert policy.members("ravens") == ("alice", "bob", "carol")
    assert policy.team_of("zoe") == "zoe" and policy.members("zoe") == ("zoe",)


def test_no_course_file_is_an_error_that_says_how_to_make_one(tmp_path):
    with pytest.raises(CourseFileError, match="no course file at .*dlgrade init"):
        load(tmp_path / "course.toml")
    assert CoursePolicy().bonus_max == 10 and CoursePolicy().pass_mark == 50


def test_an_empty_course_file_is_an_error_not_the_default_policy(tmp_path):
    (tmp_path / "course.toml").write_text("# nothing yet\n")
    with pytest.raises(CourseFileError, match="course.toml is empty"):
        load(tmp_path / "course.toml")


def test_a_weight_for_an_assignment_without_a_suite_is_refused(tmp_path):
    (tmp_path / "suites" / "a1").mkdir(parents=True)
    (tmp_path / "course.toml").write_text("[assignments.a1]\nweight = 1\n[assignments.a9]\nweight = 1\n")
    with pytest.raises(CourseFileError, match=r"\[assignments\] a9: no such assignment .*suites are a1"):
        load_course(tmp_path)


def test_whether_the_bonus_counts_for_the_pass_mark_is_the_course_files_choice():
    assert parse({}).bonus_counts_for_pass is True
    assert parse({"course": {"bonus_counts_for_pass": False}}).bonus_counts_for_pass is False


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"teams": {"big": ["a", "b", "c", "d"]}}, "4 members; at most 3"),
        ({"teams": {"x": ["a"], "y": ["a", "b"]}}, "a is in both x and y"),
        ({"teams": {"x": "alice"}}, "must be a list of student ids"),
        ({"course": {"bonus_maximum": 10}}, "unknown key(s) bonus_maximum"),
        ({"course": {"bonus_max": -1}}, "bonus_max must be a number >= 0"),
        ({"course": {"exam_max": 0}}, "exam_max must be more than 0"),
        ({"late": {"per_day": 10}}, "fraction of the points"),
        ({"visibility": {"a1": "everything"}}, "must be one of"),
        ({"assignments": {"a1": {"deadline": "friday"}}}, "must be a date and time"),
        ({"assignments": {"a1": {"deadline": datetime(2026, 11, 1)}}}, "needs a time zone"),
        ({"course": {"bonus_max": 15}}, "at most 10% of the exam's points, 10"),
        ({"course": {"bonus_max": 100}}, "at most 10% of the exam's points, 10"),
        ({"course": {"pass_mark": 500}}, "more than the exam's 100 points"),
        ({"course": {"pass_mark": 0}}, "pass_mark must be more than 0"),
        ({"course": {"bonus_counts_for_pass": "yes"}}, "must be true or false"),
        ({"assignments": {"a1": {"weight": 0}, "a2": {"weight": 0}}}, "every weight is 0"),
    ],
)
def test_mistakes_are_refused_with_the_reason(data, complaint):
    with pytest.raises(CourseFileError, match=re.escape(complaint)):
        parse(data)


def test_a_broken_file_names_itself(tmp_path):
    path = tmp_path / "course.toml"
    path.write_text("[teams\n")
    with pytest.raises(CourseFileError, match="course.toml: not valid TOML"):
        load(path)
