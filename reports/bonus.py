"""Bonus arithmetic: pure functions from assignment points to bonus points, every step kept.

    points earned by the counted submission        (raw)
    - late deduction  (per_day x days late x raw, at most raw; 0 points past the cutoff)
    = points                                        (what the gradebook CSV shows)
    fraction   = points / max_points                per assignment
    weighted   = sum(weight x fraction) / sum(weight)
    unrounded  = weighted x bonus_max
    bonus      = unrounded rounded half up to a multiple of ``rounding``, never above bonus_max

Nothing here reads a file or a clock, so each rule is tested on numbers with known
answers (tests/unit/reports/test_bonus.py) and each step can be shown to the student it concerns.

Every step is exact (``fractions.Fraction``; a number from the course file or the
gradebook is taken as the decimal it was written as): 19/30 of 7.5 is 4.75, never
4.7499999, so float noise never decides a half. Only the printed numbers are rounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction

from grader.course.course_file import CoursePolicy, LatePolicy

DAY_SECONDS = 86400.0
DIGITS = 9
"""Charts round bin edges of float data to this many digits (the bonus itself is exact)."""

Number = Fraction | float | int


def exact(value: Number) -> Fraction:
    """``value`` as the decimal it reads as: 0.1 is 1/10, not the float nearest to it."""
    return value if isinstance(value, Fraction) else Fraction(str(value))


@dataclass(frozen=True)
class Lateness:
    """How late one submission was and what it costs, as a fraction of its points."""

    days: int = 0
    fraction_lost: Fraction = Fraction(0)
    note: str = ""


@dataclass(frozen=True)
class AssignmentScore:
    """One assignment's line of a student's breakdown, from raw points to its share of the bonus."""

    assignment: str
    raw: Fraction
    max_points: Fraction
    weight: Fraction
    lateness: Lateness = Lateness()
    counted_from: str = ""
    """The student whose submission counts (a teammate's, for a team); "" when nobody submitted."""
    submitted_at: str = ""
    notes: tuple[str, ...] = ()
    adjustment: Fraction = Fraction(0)
    """Points an override adds (or, negative, takes), after the late deduction."""
    zeroed: bool = False
    """An override set the assignment to 0 points (plagiarism)."""
    deadline: datetime | None = None
    """The deadline that applied (the course's, or an extension's); its zone is the course's."""

    def __post_init__(self) -> None:
        for name in ("raw", "max_points", "weight", "adjustment"):
            object.__setattr__(self, name, exact(getattr(self, name)))

    @property
    def deduction(self) -> Fraction:
        return self.raw * self.lateness.fraction_lost

    @property
    def points(self) -> Fraction:
        """Raw - deduction + adjustment, never below 0; 0 when zeroed."""
        if self.zeroed:
            return Fraction(0)
        return max(Fraction(0), self.raw - self.deduction + self.adjustment)

    @property
    def fraction(self) -> Fraction:
        """Share of the assignment's points earned; above 1 only when max_points is set below the suite's."""
        return self.points / self.max_points if self.max_points > 0 else Fraction(0)


@dataclass(frozen=True)
class BonusBreakdown:
    """A student's bonus and every number it comes from."""

    lines: tuple[AssignmentScore, ...]
    bonus_max: Fraction
    rounding: Fraction

    def __post_init__(self) -> None:
        object.__setattr__(self, "bonus_max", exact(self.bonus_max))
        object.__setattr__(self, "rounding", exact(self.rounding))

    @property
    def total_weight(self) -> Fraction:
        return sum((line.weight for line in self.lines), Fraction(0))

    @property
    def weighted_fraction(self) -> Fraction:
        if self.total_weight <= 0:
            return Fraction(0)
        return sum((line.weight * line.fraction for line in self.lines), Fraction(0)) / self.total_weight

    @property
    def unrounded(self) -> Fraction:
        return self.weighted_fraction * self.bonus_max

    @property
    def bonus(self) -> Fraction:
        return round_bonus(self.unrounded, step=self.rounding, cap=self.bonus_max)

    def line(self, assignment: str) -> AssignmentScore:
        return next(line for line in self.lines if line.assignment == assignment)


def round_bonus(value: Number, *, step: Number, cap: Number) -> Fraction:
    """``value`` to the nearest multiple of ``step``, halves up, never above ``cap``; step 0: as is."""
    value, step = exact(value), exact(step)
    if step > 0:
        value = math.floor(value / step + Fraction(1, 2)) * step
    return min(value, exact(cap))


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time from the gradebook; None when unknown. A time without a zone is UTC."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def course_time(text: str, deadline: datetime | None) -> str:
    """A gradebook time in the course's time zone (the deadline's); in UTC without a deadline."""
    moment = parse_time(text)
    if moment is None:
        return text
    return local_time(moment, deadline) if deadline else display_time(text)


def display_time(text: str) -> str:
    """A gradebook time as people read it, in UTC: "2026-11-01 22:59 UTC"; as is if unparsable."""
    moment = parse_time(text)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if moment else text


def days_late(submitted: datetime, deadline: datetime) -> int:
    """Started days after the deadline: one second late is one day; on time or early is 0."""
    seconds = (submitted - deadline).total_seconds()
    return math.ceil(seconds / DAY_SECONDS) if seconds > 0 else 0


def lateness(submitted_at: str, deadline: datetime | None, late: LatePolicy) -> Lateness:
    """What a submission handed in at ``submitted_at`` loses under the late policy.

    The note names both times in the deadline's time zone (the course's) and the delay
    itself, so "1 day late" is never all a student reads for a second's delay.
    """
    if deadline is None:
        return Lateness()
    submitted = parse_time(submitted_at)
    if submitted is None:
        return Lateness(note="hand-in time unknown: counted as on time")
    days = days_late(submitted, deadline)
    if days == 0:
        return Lateness()
    when = (
        f"handed in {local_time(submitted, deadline)}, {delay(submitted - deadline)} after the "
        f"deadline {local_time(deadline, deadline)}: {days} started day(s) late"
    )
    if late.cutoff_days is not None and days > late.cutoff_days:
        return Lateness(days, Fraction(1), f"{when}, past the cutoff of {late.cutoff_days:g} days: 0 points")
    lost = min(Fraction(1), exact(late.per_day) * days)
    return Lateness(days, lost, f"{when}: -{number(lost * 100)}% of the points")


def local_time(moment: datetime, deadline: datetime) -> str:
    """``moment`` in the deadline's time zone: "2026-11-01 23:59:00 (UTC+01:00)"."""
    local = moment.astimezone(deadline.tzinfo)
    offset = local.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return f"{local:%Y-%m-%d %H:%M:%S} ({zone})"


def delay(span: timedelta) -> str:
    """A delay in words: "1 second", "2 hours 5 minutes", "3 days 4 hours"."""
    seconds = int(span.total_seconds())
    parts = [
        (seconds // 86400, "day"),
        (seconds % 86400 // 3600, "hour"),
        (seconds % 3600 // 60, "minute"),
        (seconds % 60, "second"),
    ]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return " ".join(words[:2]) or "0 seconds"


def bonus_breakdown(lines: list[AssignmentScore], policy: CoursePolicy) -> BonusBreakdown:
    return BonusBreakdown(tuple(lines), bonus_max=exact(policy.bonus_max), rounding=exact(policy.rounding))


def number(value: Number) -> str:
    """A number as reports print it: at most 3 decimals, no trailing zeros (7.5, 10, 0.333)."""
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def number_down(value: Number) -> str:
    """``value`` cut (never rounded up) to 3 decimals: a final score of 49.9996 prints as
    49.999, so a printed score never reaches a pass mark the score itself does not."""
    cut = Fraction(math.floor(exact(value) * 1000), 1000)
    return number(cut)
