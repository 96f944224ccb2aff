"""Reports from a hand-made gradebook whose every number is worked out below.

The course: a1 (weight 1, 20 points) and a2 (weight 3, 10 points), bonus 10 rounded
to 0.5, 10% a started day late and 0 points after 3 days; alice and bob are a team.

    alice  a1 16/20 on time (bob's earlier 12 does not count); a2 bob's 9/10, 2 days late: 7.2
           (1 x 0.8 + 3 x 0.72) / 4 = 0.74  -> 7.4  -> 7.5          bob: the same
    carol  a1 20/20 5 days late: 0; a2 10/10     (0 + 3 x 1) / 4    -> 7.5  -> 7.5
    dave   a1 12/20; a2 5/10 one second late: 4.5  (0.6 + 1.35) / 4 -> 4.875 -> 5
    erin   a1 8/20, hand-in time unknown (on time); no a2  0.4 / 4  -> 1    -> 1
    frank  a2 not a notebook: 0;  zoe: only in the course file: 0
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from report_course import (
    COURSE_TOML,
    D1,
    EXAM_CSV,
    MESSAGES,
    ROSTER_CSV,
    SCRIPT,
    make_course,
    record,
    submission,
)

from grader.course.course_file import load_course, parse
from grader.course.roster import load as load_roster
from grader.results.gradebook import Gradebook
from reports.charts import bar_chart, histogram, nice_step, y_ticks
from reports.classbook import build_report
from reports.cli import init as init_command
from reports.cli import report as report_command
from reports.exam import read_exam
from reports.feedback import page_hint, suite_docstrings, visible_tests
from reports.gradescope import results_json
from reports.html import render_overview, render_student, student_filename
from reports.overview import item_analysis
from reports.tables import final_rows, gradebook_rows, outcome_columns


@pytest.fixture
def course(tmp_path) -> Path:
    return make_course(tmp_path)


@pytest.fixture
def report(course):
    policy = load_course(course)
    with Gradebook(course / "gradebook.sqlite") as book:
        return build_report(book, policy, read_exam(course / "exam.csv", policy), load_roster(course))


def by_student(report):
    return {s.student: s for s in report.students}


# ---------------------------------------------------------------- who counts for what


def test_the_bonus_of_every_student_matches_the_worked_example(report):
    assert {s.student: s.bonus for s in report.students} == {
        "alice": 7.5,
        "bob": 7.5,
        "carol": 7.5,
        "dave": 5.0,
        "erin": 1.0,
        "frank": 0.0,
        "zoe": 0.0,
    }
    assert by_student(report)["dave"].breakdown.unrounded == 4.875


def test_the_gradebook_rows_show_points_after_deduction(report):
    rows = {row["id"]: row for row in gradebook_rows(report)}
    assert rows["alice"] == {
        "id": "alice",
        "name": "Alice <Smith>",
        "team": "ravens",
        "a1": "16",
        "a2": "7.2",
        "bonus": "7.5",
    }
    assert rows["carol"]["a1"] == "0" and rows["dave"]["a2"] == "4.5" and rows["zoe"]["a2"] == "0"


def test_a_team_shares_the_most_recent_submission_and_says_so(report):
    alice, bob = by_student(report)["alice"], by_student(report)["bob"]
    assert alice.breakdown.line("a1").counted_from == "alice"  # handed in after bob's
    assert bob.breakdown.line("a1").points == 16
    assert "the most recent, alice's, counts" in bob.breakdown.line("a1").notes[0]
    assert "alice's submission counts for team ravens" in bob.breakdown.line("a1").notes
    assert alice.attempts["a2"] is bob.attempts["a2"] and alice.breakdown.line("a2").counted_from == "bob"


def test_lateness_and_the_cutoff_are_applied_to_the_counted_submission(report):
    a2 = by_student(report)["alice"].breakdown.line("a2")
    assert (a2.raw, a2.lateness.days, a2.deduction, a2.points) == (9, 2, Fraction("1.8"), Fraction("7.2"))
    carol = by_student(report)["carol"].breakdown.line("a1")
    assert (carol.raw, carol.points) == (20, 0) and "past the cutoff" in carol.notes[-1]
    assert "hand-in time unknown: counted as on time" in by_student(report)["erin"].breakdown.line("a1").notes


def test_a_student_without_a_submission_gets_zero_not_an_error(report):
    zoe = by_student(report)["zoe"]
    assert zoe.name == "Zoe Park" and zoe.bonus == 0
    assert [line.notes for line in zoe.breakdown.lines] == [("no submission: 0 points",)] * 2
    assert zoe.attempts == {"a1": None, "a2": None}


def test_max_points_come_from_the_course_file_else_the_gradebook(report):
    assert report.max_points == {"a1": 20, "a2": 10}


def test_without_a_course_file_every_assignment_in_the_gradebook_counts_equally(course):
    with Gradebook(course / "gradebook.sqlite") as book:
        report = build_report(book, parse({}))
    assert report.assignments == ("a1", "a2")
    carol = by_student(report)["carol"]  # no deadlines: nothing is late; 20/20 and 10/10
    assert carol.bonus == 10 and carol.final is None


# ---------------------------------------------------------------- the exam


def test_final_score_is_exam_plus_bonus_and_no_exam_is_not_a_fail(report):
    finals = {row["id"]: (row["final"], row["result"]) for row in final_rows(report)}
    assert finals == {
        "alice": ("52.5", "pass"),
        "bob": ("", "no exam"),
        "carol": ("47.5", "fail"),
        "dave": ("55", "pass"),
        "erin": ("", "no exam"),
        "frank": ("49", "fail"),
        "zoe": ("60", "pass"),
    }


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("student,points\nalice,4\n", "must name the columns student, exam"),
        ("student,exam\nalice,four\n", "exam.csv:2: exam points 'four' are not a number"),
        ("student,exam\nalice,140\n", "exam.csv:2: exam points 140 are not between 0 and 100"),
        ("student,exam\nalice,4\nalice,5\n", "exam.csv:3: alice has a second row"),
    ],
)
def test_a_wrong_exam_file_is_refused_with_its_line(tmp_path, text, complaint):
    (tmp_path / "exam.csv").write_text(text)
    with pytest.raises(Exception, match=complaint):
        read_exam(tmp_path / "exam.csv", parse({}))


# ---------------------------------------------------------------- what a student sees


def test_student_output_and_messages_arrive_escaped(report):
    page = render_student(report, by_student(report)["alice"])
    assert SCRIPT not in page and "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    assert "got &lt;b&gt;(3, 2)&lt;/b&gt;" in page and "<b>(3, 2)" not in page
    assert "Feedback for Alice &lt;Smith&gt; (alice)" in page


def test_long_output_is_capped(report):
    page = render_student(report, by_student(report)["dave"])
    assert "x" * 4000 in page and "x" * 4001 not in page
    assert "(6000 more characters not shown)" in page


def test_visibility_decides_what_is_shown_of_hidden_tests(report):
    bob = by_student(report)["bob"]
    page = render_student(report, bob)
    assert MESSAGES["test_shapes"].split("<")[0] in page  # a1: messages
    assert "test_zero_grad" in page and MESSAGES["test_zero_grad"] not in page  # a2: points only
    assert "not their messages" in page
    assert visible_tests(bob.attempts["a2"], "nothing") == ()
    hidden = replace(report, policy=replace(report.policy, default_visibility="nothing", visibility={}))
    page = render_student(hidden, bob)
    assert "test_shapes" not in page and "test_zero_grad" not in page and SCRIPT.split(">")[1] not in page
    assert "a1: 16 of 20 points" in page and "show only the total" in page


def test_each_outcome_has_a_hint_and_a_docstring_adds_to_it(course, report):
    docstrings = {"a1": suite_docstrings(course / "suites" / "a1")}
    assert docstrings["a1"] == {
        "test_forward": "The forward pass.",
        "test_shapes": "The output has one row per sample and one column per class.",
    }
    page = render_student(report, by_student(report)["erin"], docstrings=docstrings)
    assert page_hint("timeout") in page and page_hint("crashed") in page
    alice = render_student(report, by_student(report)["alice"], docstrings=docstrings)
    # the docstring names the test in words; the hint says what to do
    assert (
        '<strong class="test-title">The output has one row per sample and one column per class.</strong>'
        in alice
        and "Compare what" in alice
    )


def test_the_page_shows_how_the_bonus_was_computed(report):
    page = render_student(report, by_student(report)["alice"])
    assert "weighted share = (1 × 0.8 + 3 × 0.72) / 4 = 0.74" in page
    assert "0.74 × 10 bonus points = 7.4" in page
    assert "7.4 rounded to a multiple of 0.5 (halves up), at most 10: bonus = 7.5" in page
    assert "exam 45 of 100 + bonus 7.5; pass mark 50" in page


def test_the_overview_lists_item_analysis_problems_and_every_student(report):
    page = render_overview(report)
    assert page.count("<svg") == 4  # bonus, final scores, a1, a2
    assert "<code>test_backward</code>" in page and "2 / 4 (50%)" in page  # alice, carol, dave, erin
    assert "1 timeout, 1 crashed" in page and "the file is not valid notebook JSON" in page
    assert 'href="students/zoe.html"' in page and "http://" not in page and "https://" not in page


def test_odd_student_ids_get_safe_unique_file_names():
    assert student_filename("alice") == "alice.html"
    odd = student_filename("../x y")
    assert "/" not in odd and odd.endswith(".html") and odd != student_filename("../x_y")


# ---------------------------------------------------------------- Gradescope


def test_gradescope_results_follow_the_visibility(report):
    alice = by_student(report)["alice"]
    a1 = results_json(alice.attempts["a1"], "messages")
    assert (a1["score"], len(a1["tests"])) == (16, 3)
    shapes = a1["tests"][2]
    assert [shapes[k] for k in ("name", "status", "score", "max_score")] == ["test_shapes", "failed", 0, 4]
    assert "expected (2, 3)" in shapes["output"] and SCRIPT in a1["output"]  # text, not HTML
    a2 = results_json(alice.attempts["a2"], "points")["tests"][2]
    assert a2["visibility"] == "visible" and a2["output"] == page_hint("failed")
    # "hidden" on any test would hide the total from students (Gradescope's rule): one visible total
    hidden = results_json(alice.attempts["a2"], "nothing")
    assert hidden["score"] == 9 and [t["visibility"] for t in hidden["tests"]] == ["visible"]
    assert (hidden["tests"][0]["score"], hidden["tests"][0]["max_score"]) == (9, 10)
    assert "test_zero_grad" not in json.dumps(hidden) and "zero_grad left" not in json.dumps(hidden)


# ---------------------------------------------------------------- the command


def test_report_writes_every_file_and_the_lms_csv_reads_as_expected(course):
    out = course / "out"
    run = CliRunner().invoke(
        report_command,
        ["--course", str(course), "--exam", str(course / "exam.csv"), "--out", str(out), "--gradescope"],
    )
    assert run.exit_code == 0, run.output
    assert "7 student(s); mean bonus 4.071 of 10" in run.output
    assert "final: 3 pass, 2 fail, 2 no exam" in run.output
    assert (out / "gradebook.csv").read_text().splitlines() == [
        "id,name,team,a1,a2,bonus",
        "alice,Alice <Smith>,ravens,16,7.2,7.5",
        "bob,bob,ravens,16,7.2,7.5",
        "carol,carol,carol,0,10,7.5",
        "dave,dave,dave,12,4.5,5",
        "erin,erin,erin,8,0,1",
        "frank,frank,frank,0,0,0",
        "zoe,Zoe Park,zoe,0,0,0",
    ]
    tests = list(csv.DictReader((out / "tests.csv").read_text().splitlines()))
    assert tests[0]["a1:test_shapes"] == "failed" and tests[-1]["a1:test_shapes"] == ""
    breakdown = list(csv.DictReader((out / "breakdown.csv").read_text().splitlines()))
    alice = [row for row in breakdown if row["id"] == "alice"]
    assert [row["contribution"] for row in alice] == ["2", "5.4"]  # adds up to the unrounded 7.4
    assert sorted(p.name for p in (out / "students").iterdir()) == [
        f"{s}.html" for s in ("alice", "bob", "carol", "dave", "erin", "frank", "zoe")
    ]
    bob = json.loads((out / "gradescope" / "a2" / "bob" / "results.json").read_text())
    assert bob["score"] == 9
    assert "The output has one row" in (out / "students" / "alice.html").read_text()


def test_report_without_a_gradebook_says_what_to_do(tmp_path):
    (tmp_path / "course.toml").write_text(COURSE_TOML)
    (tmp_path / "students.csv").write_text(ROSTER_CSV)
    run = CliRunner().invoke(report_command, ["--course", str(tmp_path), "--out", str(tmp_path / "out")])
    assert run.exit_code == 1 and "no gradebook at" in run.output and "dlgrade grade" in run.output
    assert not (tmp_path / "gradebook.sqlite").exists()


def test_outcome_columns_follow_the_suites_order(report):
    columns = outcome_columns(report)
    assert columns[:5] == ["id", "team", "a1:test_forward", "a1:test_backward", "a1:test_shapes"]


# ---------------------------------------------------------------- charts


def test_a_histogram_counts_the_top_value_and_extra_credit_in_the_last_bin():
    bins = histogram([0, 0.5, 7.5, 7.5, 10, 12], low=0, high=10.5, step=0.5)
    assert len(bins) == 21 and bins[0].count == 1 and bins[15].count == 2 and bins[-1].count == 2
    assert nice_step(23) == 1 and nice_step(110, 12) == 10 and nice_step(400) == 20


def test_bars_are_as_tall_as_their_share_of_the_largest_count_and_the_pass_mark_sits_on_its_value():
    bins = histogram([1, 1, 3], low=0, high=4, step=1)
    chart = bar_chart(bins, title="t", unit="points", marker=(2, "pass"))
    heights = [bar.height for bar in chart.bars]
    assert heights[1] == 2 * heights[3] and heights[0] == heights[2] == 0 and chart.top == 2
    assert chart.marker.x == pytest.approx(chart.bars[2].x - 1)


# ---------------------------------------------------------------- the roster and strict inputs


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))


def run_report(course: Path, *extra: str):
    return CliRunner().invoke(report_command, ["--course", str(course), "--out", str(course / "out"), *extra])


def test_a_typo_in_a_team_is_an_error_naming_the_closest_roster_student(course):
    (course / "course.toml").write_text(COURSE_TOML.replace('["alice", "bob"]', '["alice", "bbo"]'))
    run = run_report(course)
    assert run.exit_code == 1 and not (course / "out" / "gradebook.csv").exists()
    assert "the course file's [teams]: not on the roster" in run.output
    assert "'bbo' (closest: bob)" in run.output


def test_a_typo_in_the_exam_file_is_an_error_naming_the_closest_roster_student(course):
    (course / "exam.csv").write_text(EXAM_CSV.replace("dave,50", "davee,50"))
    run = run_report(course, "--exam", str(course / "exam.csv"))
    assert run.exit_code == 1 and "the exam file: not on the roster" in run.output
    assert "'davee' (closest: dave)" in run.output


def test_a_gradebook_student_not_on_the_roster_is_an_error(course):
    (course / "students.csv").write_text(ROSTER_CSV.replace("erin,erin", "erica,Erica"))
    run = run_report(course)
    assert run.exit_code == 1 and "the gradebook: not on the roster" in run.output and "'erin'" in run.output


def test_a_course_without_a_roster_or_a_course_file_is_told_how_to_make_them(course):
    (course / "students.csv").unlink()
    run = run_report(course)
    assert run.exit_code == 1 and "no roster in" in run.output and "students.csv" in run.output
    (course / "course.toml").unlink()
    run = run_report(course)
    assert run.exit_code == 1 and "no course file at" in run.output and "dlgrade init" in run.output


def test_an_empty_a_foreign_or_a_corrupt_gradebook_is_refused(course, tmp_path):
    empty = tmp_path / "empty.sqlite"
    Gradebook(empty).close()
    run = run_report(course, "--gradebook", str(empty))
    assert run.exit_code == 1 and "holds no graded submission" in run.output
    foreign = tmp_path / "foreign.sqlite"
    with Gradebook(foreign) as book:
        book.record(
            replace(submission("a1", "ppp"), assignment="hw7"),
            student="alice",
            suite_version="v",
            versions={},
        )
    run = run_report(course, "--gradebook", str(foreign))
    assert run.exit_code == 1 and "none of this course's assignments" in run.output
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not SQLite" * 100)
    run = run_report(course, "--gradebook", str(corrupt))
    assert run.exit_code == 1 and "Traceback" not in run.output and str(corrupt) in run.output


def test_the_pass_rule_may_leave_the_bonus_out_of_the_pass_mark(course):
    policy = replace(load_course(course), bonus_counts_for_pass=False)
    with Gradebook(course / "gradebook.sqlite") as book:
        report = build_report(book, policy, read_exam(course / "exam.csv", policy), load_roster(course))
    finals = {row["id"]: (row["final"], row["result"]) for row in final_rows(report)}
    assert finals["alice"] == ("52.5", "fail")  # 45 exam points: under 50 without the bonus
    assert finals["dave"] == ("55", "pass")


def test_a_final_score_just_under_the_pass_mark_never_prints_as_the_pass_mark(course):
    (course / "exam.csv").write_text("student,exam\nfrank,49.9996\n")
    policy = load_course(course)
    with Gradebook(course / "gradebook.sqlite") as book:
        report = build_report(book, policy, read_exam(course / "exam.csv", policy), load_roster(course))
    frank = next(row for row in final_rows(report) if row["id"] == "frank")
    assert (frank["final"], frank["result"]) == ("49.999", "fail")
    page = render_student(report, by_student(report)["frank"])
    assert "49.999" in page and ">50 <" not in page


def test_dlgrade_init_writes_a_course_file_and_roster_that_a_report_accepts(course, tmp_path):
    fresh = tmp_path / "fresh"
    run = CliRunner().invoke(init_command, [str(fresh)])
    assert run.exit_code == 0 and "wrote" in run.output
    policy = load_course(fresh)
    assert policy.bonus_max == 10 and policy.bonus_counts_for_pass is True
    assert load_roster(fresh).ids() == ["alice"]
    (fresh / "course.toml").write_text("# mine\n")
    assert "nothing written" in CliRunner().invoke(init_command, [str(fresh)]).output
    assert (fresh / "course.toml").read_text() == "# mine\n"


def test_report_outside_a_course_folder_never_uses_the_example_course(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke(report_command, ["--out", str(tmp_path / "out")])
    assert run.exit_code == 1 and "no course folder" in run.output and not (tmp_path / "out").exists()


# ---------------------------------------------------------------- overrides

OVERRIDES_TOML = """
[[extension]]
team = "ravens"
assignment = "a2"
deadline = 2026-11-17T23:59:00+01:00
reason = "the cluster was down for two days"

[[adjustment]]
student = "dave"
assignment = "a1"
points = 2.5
reason = "regrade: test_backward's tolerance was too strict"

[[zero]]
student = "erin"
assignment = "a1"
reason = "plagiarism: the same notebook as another student (course rules, section 4)"
"""


def test_overrides_change_the_numbers_and_every_reason_reaches_the_student_and_the_audit_log(course):
    (course / "overrides.toml").write_text(OVERRIDES_TOML)
    run = run_report(course)
    assert run.exit_code == 0, run.output
    rows = {row["id"]: row for row in read_csv(course / "out" / "gradebook.csv")}
    # ravens' a2 (bob's 9/10, 30 hours late) is on time with the extension: 1 x 0.8 + 3 x 0.9 -> 8.75 -> 9
    assert (rows["alice"]["a2"], rows["alice"]["bonus"]) == ("9", "9")
    assert (rows["dave"]["a1"], rows["dave"]["bonus"]) == ("14.5", "5")  # 12 + 2.5; (0.725 + 1.35)/4 x 10
    assert (rows["erin"]["a1"], rows["erin"]["bonus"]) == ("0", "0")
    erin = (course / "out" / "students" / "erin.html").read_text()
    assert "0 points by the instructor: plagiarism: the same notebook" in erin
    bob = (course / "out" / "students" / "bob.html").read_text()
    assert "extension to 2026-11-17 23:59:00+01:00 (team ravens): the cluster was down" in bob
    audit = read_csv(course / "out" / "overrides.csv")
    assert [(r["id"], r["kind"], r["points"]) for r in audit] == [
        ("alice", "extension", "9"),
        ("bob", "extension", "9"),
        ("dave", "adjustment", "14.5"),
        ("erin", "zero", "0"),
    ]
    assert all(r["reason"] for r in audit)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('[[zero]]\nstudent = "erni"\nassignment = "a1"\nreason = "x"\n', "'erni' (closest: erin)"),
        ('[[zero]]\nstudent = "erin"\nassignment = "a1"\n', "needs a reason"),
        ('[[zero]]\nteam = "hawks"\nassignment = "a1"\nreason = "x"\n', "no team 'hawks'"),
        (
            '[[adjustment]]\nstudent = "erin"\nassignment = "a9"\npoints = 1\nreason = "x"\n',
            "'a9' is not one",
        ),
        (
            '[[extension]]\nstudent = "erin"\nassignment = "a1"\ndeadline = 2026-11-08\nreason = "x"\n',
            "with a time zone",
        ),
        ('[[bonus]]\nstudent = "erin"\n', "unknown table(s) bonus"),
    ],
)
def test_a_wrong_override_stops_the_report_with_the_reason(course, text, complaint):
    (course / "overrides.toml").write_text(text)
    run = run_report(course)
    assert run.exit_code == 1 and complaint in run.output and "overrides.toml" in run.output


# ---------------------------------------------------------------- the latest hand-in counts


def test_the_latest_hand_in_counts_for_a_student_alone_and_for_a_team(course):
    """An older notebook graded again later (say with --force) never replaces a newer hand-in."""
    hour = timedelta(hours=1)
    with Gradebook(course / "gradebook.sqlite") as book:
        record(book, "zoe", submission("a1", "ppp"), D1 - 2 * hour)  # 20 points, handed in last
        record(book, "zoe", submission("a1", "fpf"), D1 - 5 * hour)  # 8 points, older, graded later
        record(book, "alice", submission("a1", "fff"), D1 - 3 * hour)  # older than her 16/20: not it
    policy = load_course(course)
    with Gradebook(course / "gradebook.sqlite") as book:
        report = build_report(book, policy, None, load_roster(course))
    students = by_student(report)
    assert students["zoe"].breakdown.line("a1").raw == 20
    assert students["bob"].breakdown.line("a1").raw == 16
    assert students["bob"].attempts["a1"].student == "alice"


# ---------------------------------------------------------------- LMS imports


def test_the_canvas_import_has_canvas_identity_columns_and_a_points_possible_row(course):
    run = run_report(course)
    assert run.exit_code == 0, run.output
    lines = (course / "out" / "canvas.csv").read_text(encoding="utf-8").splitlines()
    # Canvas's gradebook export/import: these five columns, in this order, then the assignments
    assert lines[0] == "Student,ID,SIS User ID,SIS Login ID,Section,a1,a2,Bonus"
    assert lines[1] == "Points Possible,,,,,20,10,10"
    assert lines[2] == "Alice <Smith>,4711,S1001,asmith,A,16,7.2,7.5"
    assert len(lines) == 2 + 7


def test_the_moodle_import_identifies_students_by_email(course):
    run_report(course)
    rows = read_csv(course / "out" / "moodle.csv")
    assert list(rows[0]) == ["Email address", "ID number", "Full name", "a1", "a2", "Bonus"]
    assert rows[0] == {
        "Email address": "alice@uni.example",
        "ID number": "S1001",
        "Full name": "Alice <Smith>",
        "a1": "16",
        "a2": "7.2",
        "Bonus": "7.5",
    }
    assert [r["Email address"] for r in rows][-1] == "zoe@uni.example" and len(rows) == 7


def test_an_lms_row_without_its_id_is_an_error_never_a_silently_dropped_row(course):
    (course / "students.csv").write_text(ROSTER_CSV.replace("zoe@uni.example", ""))
    run = run_report(course)
    assert run.exit_code == 1 and "no email for zoe: Moodle could not match" in run.output


def test_excel_csvs_start_with_a_byte_order_mark_and_keep_accents(course):
    (course / "students.csv").write_text(ROSTER_CSV.replace("Zoe Park", "Zoë Park"), encoding="utf-8")
    assert run_report(course, "--excel").exit_code == 0
    for name in ("gradebook.csv", "canvas.csv", "moodle.csv"):
        data = (course / "out" / name).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and "Zoë Park".encode() in data
    run_report(course)
    assert not (course / "out" / "gradebook.csv").read_bytes().startswith(b"\xef\xbb\xbf")


# ---------------------------------------------------------------- Gradescope autograder

GRADESCOPE_SCHEMA = Path(__file__).parents[2] / "schemas" / "gradescope-results.schema.json"


def test_every_results_json_follows_gradescopes_output_format(report):
    schema = json.loads(GRADESCOPE_SCHEMA.read_text())
    for student in report.students:
        for attempt in student.attempts.values():
            for visibility in ("messages", "points", "nothing"):
                if attempt is not None:
                    jsonschema.validate(results_json(attempt, visibility), schema)


# ---------------------------------------------------------------- what a student reads


def test_every_zero_says_why_beside_the_points(report):
    carol = render_student(report, by_student(report)["carol"])  # a1: all passed, 5 days late
    assert "a1: 0 of 20 points" in carol
    assert "<strong>Why 0 points:</strong> handed in 2026-11-06 23:59:00 (UTC+01:00), 5 days after" in carol
    assert "past the cutoff of 3 days: 0 points" in carol


def test_deadlines_and_hand_in_times_are_in_the_courses_time_zone(report):
    dave = render_student(report, by_student(report)["dave"])  # a2: one second late
    assert (
        "Deadline: 2026-11-15 23:59:00 (UTC+01:00); handed in\n    2026-11-15 23:59:01 (UTC+01:00)." in dave
    )
    assert "1 second after the deadline 2026-11-15 23:59:00 (UTC+01:00): 1 started day(s) late" in dave


def test_tests_are_named_in_words_where_their_docstring_is_not_shown(report):
    alice = render_student(report, by_student(report)["alice"])  # a2's visibility: "points"
    assert '<strong class="test-title">zero grad</strong> <code class="muted">test_zero_grad</code>' in alice
    assert visible_tests(by_student(report)["alice"].attempts["a2"], "points")[2].title == "zero grad"


# ---------------------------------------------------------------- what an instructor reads


def test_the_overview_starts_with_the_students_table_and_lists_the_hardest_tests_first(report):
    page = render_overview(report)
    order = [page.index(h) for h in ("<h2>Students</h2>", "<h2>Distributions</h2>", "Item analysis")]
    assert order == sorted(order)
    items = [item.name for item in item_analysis(report, "a1")]
    # a1's counted submissions: alice ppf, carol ppp, dave pnp, erin ptc
    assert items == ["test_backward", "test_shapes", "test_forward"]
    assert [item.rate for item in item_analysis(report, "a1")] == [0.5, 0.5, 1.0]  # a tie: suite order


def test_a_test_nobody_passed_is_outlined_rather_than_an_empty_bar(tmp_path):
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        record(book, "zoe", submission("a1", "ppf"), D1)
        report = build_report(book, parse({}))
    page = render_overview(report)
    assert page.count('class="rate none"') == 1 and page.count('class="rate"') == 2


def test_the_y_axis_is_labelled_in_round_steps_with_grid_lines():
    assert [t.label for t in y_ticks(7, 100)] == ["0", "2", "4", "6"]
    assert [t.label for t in y_ticks(99, 100)] == ["0", "20", "40", "60", "80", "99"]
    ticks = y_ticks(4, 100)
    assert [t.label for t in ticks] == ["0", "1", "2", "3", "4"] and ticks[0].y - ticks[-1].y == 100
    chart = bar_chart(histogram([1, 2, 2], low=0, high=4, step=1), title="t", unit="points")
    assert [t.label for t in chart.ticks] == ["0", "1", "2"]
