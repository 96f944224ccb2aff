"""Bonus arithmetic: pure functions from assignment points to bonus points, every step kept.

    points earned by the counted submission        (raw)
    - late deduction  (per_day x days late x raw, at most raw; 0 points past the cutoff)
    = points                                        (what the gradebook CSV shows)
    fraction   = points / max_points                per assignment
    weighted   = sum(weight x fraction) / sum(weight)
    unrounded  = weighted x bonus_max
    bonus      = unrounded rounded half up to a multiple of ``rounding``, never above bonus_max

Nothing here reads a file or a clock, so each rule is tested on numbers with known
answers (tests/test_bonus.py) and each step can be shown to the student it concerns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

from grader.course_file import CoursePolicy, LatePolicy

DAY_SECONDS = 86400.0
DIGITS = 9
"""Sums of floats are rounded to this many digits before a step: 7.25 must not round as 7.2499999."""


@dataclass(frozen=True)
class Lateness:
    """How late one submission was and what it costs, as a fraction of its points."""

    days: int = 0
    fraction_lost: float = 0.0
    note: str = ""


@dataclass(frozen=True)
class AssignmentScore:
    """One assignment's line of a student's breakdown, from raw points to its share of the bonus."""

    assignment: str
    raw: float
    max_points: float
    weight: float
    lateness: Lateness = Lateness()
    counted_from: str = ""
    """The student whose submission counts (a teammate's, for a team); "" when nobody submitted."""
    submitted_at: str = ""
    notes: tuple[str, ...] = ()

    @property
    def deduction(self) -> float:
        return round(self.raw * self.lateness.fraction_lost, DIGITS)

    @property
    def points(self) -> float:
        return round(self.raw - self.deduction, DIGITS)

    @property
    def fraction(self) -> float:
        """Share of the assignment's points earned; above 1 only when max_points is set below the suite's."""
        return self.points / self.max_points if self.max_points > 0 else 0.0


@dataclass(frozen=True)
class BonusBreakdown:
    """A student's bonus and every number it comes from."""

    lines: tuple[AssignmentScore, ...]
    bonus_max: float
    rounding: float

    @property
    def total_weight(self) -> float:
        return sum(line.weight for line in self.lines)

    @property
    def weighted_fraction(self) -> float:
        if self.total_weight <= 0:
            return 0.0
        return round(sum(line.weight * line.fraction for line in self.lines) / self.total_weight, DIGITS)

    @property
    def unrounded(self) -> float:
        return round(self.weighted_fraction * self.bonus_max, DIGITS)

    @property
    def bonus(self) -> float:
        return round_bonus(self.unrounded, step=self.rounding, cap=self.bonus_max)

    def line(self, assignment: str) -> AssignmentScore:
        return next(line for line in self.lines if line.assignment == assignment)


def round_bonus(value: float, *, step: float, cap: float) -> float:
    """``value`` to the nearest multiple of ``step``, halves up, never above ``cap``; step 0: as is."""
    if step > 0:
        value = math.floor(round(value / step, DIGITS) + 0.5) * step
    return round(min(value, cap), DIGITS)


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time from the gradebook; None when unknown. A time without a zone is UTC."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def display_time(text: str) -> str:
    """A gradebook time as people read it, in UTC: "2026-11-01 22:59 UTC"; as is if unparsable."""
    moment = parse_time(text)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if moment else text


def days_late(submitted: datetime, deadline: datetime) -> int:
    """Started days after the deadline: one second late is one day; on time or early is 0."""
    seconds = (submitted - deadline).total_seconds()
    return math.ceil(seconds / DAY_SECONDS) if seconds > 0 else 0


def lateness(submitted_at: str, deadline: datetime | None, late: LatePolicy) -> Lateness:
    """What a submission handed in at ``submitted_at`` loses under the late policy."""
    if deadline is None:
        return Lateness()
    submitted = parse_time(submitted_at)
    if submitted is None:
        return Lateness(note="hand-in time unknown: counted as on time")
    days = days_late(submitted, deadline)
    if days == 0:
        return Lateness()
    if late.cutoff_days is not None and days > late.cutoff_days:
        return Lateness(days, 1.0, f"{days} day(s) late, past the cutoff of {late.cutoff_days:g}: 0 points")
    lost = min(1.0, round(late.per_day * days, DIGITS))
    return Lateness(days, lost, f"{days} day(s) late: -{number(lost * 100)}% of the points")


def bonus_breakdown(lines: list[AssignmentScore], policy: CoursePolicy) -> BonusBreakdown:
    return BonusBreakdown(tuple(lines), bonus_max=policy.bonus_max, rounding=policy.rounding)


def number(value: float) -> str:
    """A number as reports print it: at most 3 decimals, no trailing zeros (7.5, 10, 0.333)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
