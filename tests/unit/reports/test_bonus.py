"""Bonus arithmetic on numbers with known answers: lateness, rounding, weights, the scaling."""

from datetime import datetime, timedelta, timezone
from fractions import Fraction

import pytest

from grader.course.course_file import CoursePolicy, LatePolicy
from reports.bonus import (
    AssignmentScore,
    BonusBreakdown,
    Lateness,
    bonus_breakdown,
    days_late,
    lateness,
    number,
    number_down,
    round_bonus,
)

CET = timezone(timedelta(hours=1))
DEADLINE = datetime(2026, 11, 1, 23, 59, tzinfo=CET)  # 22:59 UTC
LATE = LatePolicy(per_day=0.1, cutoff_days=3)


@pytest.mark.parametrize(
    ("value", "step", "rounded"),
    [
        (7.25, 0.5, 7.5),  # a half goes up
        (7.2499999999999, 0.5, 7.0),  # exact: just under a half is under it (sums make no noise)
        (Fraction(19, 30) * Fraction("7.5"), 0.5, 5.0),  # 19/30 of 7.5 is 4.75 exactly: a half, up
        (7.24, 0.5, 7.0),
        (7.75, 0.5, 8.0),
        (3.5, 1.0, 4.0),
        (2.5, 1.0, 3.0),  # halves up, not to even as Python's round() would
        (6.125, 0.25, 6.25),
        (6.1234, 0.0, Fraction("6.1234")),  # rounding = 0: as is
    ],
)
def test_the_bonus_is_rounded_half_up_to_a_multiple_of_the_step(value, step, rounded):
    assert round_bonus(value, step=step, cap=10) == rounded


def test_the_bonus_never_exceeds_its_maximum():
    assert round_bonus(10.3, step=0.5, cap=10) == 10
    assert round_bonus(9.9, step=0.0, cap=9.5) == 9.5


@pytest.mark.parametrize(
    ("submitted", "days"),
    [
        (DEADLINE - timedelta(days=2), 0),
        (DEADLINE, 0),  # on the minute is on time
        (DEADLINE + timedelta(seconds=1), 1),  # a started day counts
        (DEADLINE + timedelta(days=1), 1),
        (DEADLINE + timedelta(days=1, seconds=1), 2),
        (datetime(2026, 11, 1, 23, 0, tzinfo=timezone.utc), 1),  # 00:00 CET: one minute late
    ],
)
def test_days_late_count_started_days_across_time_zones(submitted, days):
    assert days_late(submitted, DEADLINE) == days


def test_each_started_day_costs_a_share_of_the_points_up_to_the_cutoff():
    two_days = (DEADLINE + timedelta(hours=30)).isoformat()
    assert lateness(two_days, DEADLINE, LATE) == Lateness(
        2,
        Fraction(1, 5),
        (
            "handed in 2026-11-03 05:59:00 (UTC+01:00), 1 day 6 hours after the deadline "
            "2026-11-01 23:59:00 (UTC+01:00): 2 started day(s) late: -20% of the points"
        ),
    )
    four_days = (DEADLINE + timedelta(days=3, hours=1)).isoformat()
    assert lateness(four_days, DEADLINE, LATE).fraction_lost == 1.0
    assert "past the cutoff of 3 days: 0 points" in lateness(four_days, DEADLINE, LATE).note


def test_the_deduction_is_capped_at_all_points_without_a_cutoff():
    steep = LatePolicy(per_day=0.4, cutoff_days=None)
    three_days = (DEADLINE + timedelta(days=2, hours=1)).isoformat()
    assert lateness(three_days, DEADLINE, steep).fraction_lost == 1.0


def test_no_deadline_or_an_unknown_hand_in_time_is_on_time():
    assert lateness("2030-01-01T00:00:00+00:00", None, LATE) == Lateness()
    unknown = lateness("", DEADLINE, LATE)
    assert unknown.fraction_lost == 0 and unknown.note == "hand-in time unknown: counted as on time"


def test_a_breakdown_keeps_every_step_from_points_to_bonus():
    # a1: 16/20 on time; a2 (weight 3): 9/10, two days late -> 9 - 1.8 = 7.2
    a1 = AssignmentScore("a1", raw=16, max_points=20, weight=1)
    a2 = AssignmentScore("a2", raw=9, max_points=10, weight=3, lateness=Lateness(2, 0.2))
    breakdown = bonus_breakdown([a1, a2], CoursePolicy(bonus_max=10, rounding=0.5))
    assert (a2.deduction, a2.points, a2.fraction) == (1.8, 7.2, 0.72)
    assert breakdown.weighted_fraction == 0.74  # (1 x 0.8 + 3 x 0.72) / 4
    assert breakdown.unrounded == 7.4
    assert breakdown.bonus == 7.5


def test_no_weight_at_all_gives_no_bonus_rather_than_a_division_by_zero():
    line = AssignmentScore("a1", raw=5, max_points=0, weight=0)
    assert line.fraction == 0 and bonus_breakdown([line], CoursePolicy()).bonus == 0


def test_numbers_print_without_noise():
    assert [number(x) for x in (7.5, 10.0, 1 / 3, 0.0, -0.0001)] == ["7.5", "10", "0.333", "0", "0"]


def test_one_second_late_names_the_deadline_and_the_second_in_the_courses_time_zone():
    note = lateness((DEADLINE + timedelta(seconds=1)).isoformat(), DEADLINE, LATE).note
    assert note.startswith(
        "handed in 2026-11-01 23:59:01 (UTC+01:00), 1 second after the deadline "
        "2026-11-01 23:59:00 (UTC+01:00): 1 started day(s) late"
    )


def test_the_bonus_is_exact_until_it_is_rounded():
    # 19 of 30 points, bonus_max 7.5: 19/30 x 7.5 = 4.75, a half: up to 5 (floats gave 4.7499999 -> 4.5)
    line = AssignmentScore("a1", raw=19, max_points=30, weight=1)
    breakdown = BonusBreakdown((line,), bonus_max=7.5, rounding=0.5)
    assert breakdown.unrounded == Fraction("4.75") and breakdown.bonus == 5


def test_a_final_score_is_never_printed_above_itself():
    assert number_down(Fraction("49.9996")) == "49.999" and number(Fraction("49.9996")) == "50"
    assert number_down(50) == "50" and number_down(Fraction("52.5")) == "52.5"
