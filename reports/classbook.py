"""From a gradebook and a course policy to what every report shows: which submission counts for whom.

- Each student's latest attempt per assignment is theirs (``Gradebook.latest``).
- A team's score for an assignment comes from its members' latest attempts; when
  more than one member submitted, the most recent hand-in counts (``submitted_at``,
  else ``graded_at``) and the breakdown says so. Every member gets that score.
- With a roster (grader/course/roster.py), the class is the roster: every name in the
  gradebook, the teams and the exam file must be on it, or the report stops with
  the unknown names and the closest roster entries. (Without one, the class is
  everyone the gradebook, the course file and the exam file name.)
- A student with no submission gets 0 for the assignment: a line, not an error.
- An assignment's maximum is the course file's ``max_points``, else the largest
  ``max_score`` the gradebook recorded for it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from fractions import Fraction

from grader.course.course_file import CoursePolicy
from grader.course.roster import Roster
from grader.results.gradebook import Attempt, Gradebook
from reports.bonus import (
    AssignmentScore,
    BonusBreakdown,
    bonus_breakdown,
    display_time,
    exact,
    lateness,
    parse_time,
)
from reports.exam import Final, final
from reports.overrides import Override, Overrides

Latest = dict[str, dict[str, Attempt]]
"""assignment -> student -> that student's latest attempt."""

ExamPoints = dict[str, Fraction | None]
NO_OVERRIDES = Overrides()

_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Counted:
    """The attempt that counts for a team at one assignment (None: nobody submitted), and why."""

    attempt: Attempt | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StudentReport:
    """Everything the reports say about one student."""

    student: str
    name: str
    team: str
    breakdown: BonusBreakdown
    attempts: dict[str, Attempt | None]
    """The counted attempt per assignment: the student's own, a teammate's, or None."""
    final: Final | None = None
    """Exam + bonus; None when no exam file was given."""

    @property
    def bonus(self) -> Fraction:
        return self.breakdown.bonus


@dataclass(frozen=True)
class ClassReport:
    """The whole class: the policy, the assignments that count, and one report per student."""

    policy: CoursePolicy
    assignments: tuple[str, ...]
    max_points: dict[str, float]
    students: tuple[StudentReport, ...]
    has_exam: bool = False
    overrides: Overrides = NO_OVERRIDES
    """The instructor's overrides, already applied to the students' breakdowns."""

    def counted_attempts(self, assignment: str) -> list[Attempt]:
        """Each submission that counts for someone, once (a team's is not repeated per member)."""
        seen: dict[int, Attempt] = {}
        for report in self.students:
            attempt = report.attempts.get(assignment)
            if attempt is not None:
                seen.setdefault(attempt.id, attempt)
        return sorted(seen.values(), key=lambda a: a.student)


def build_report(
    gradebook: Gradebook,
    policy: CoursePolicy,
    exam: ExamPoints | None = None,
    roster: Roster | None = None,
    overrides: Overrides | None = None,
) -> ClassReport:
    """The class report from a gradebook and the course's policy."""
    latest = latest_attempts(gradebook, tuple(policy.assignments))
    return class_report(latest, policy, exam, roster, overrides)


def latest_attempts(gradebook: Gradebook, assignments: tuple[str, ...] = ()) -> Latest:
    """``Gradebook.latest`` of each assignment; none named: of every assignment the gradebook has."""
    names = assignments or gradebook.assignments()
    return {assignment: gradebook.latest(assignment) for assignment in names}


def class_report(
    latest: Latest,
    policy: CoursePolicy,
    exam: ExamPoints | None = None,
    roster: Roster | None = None,
    overrides: Overrides | None = None,
) -> ClassReport:
    assignments = tuple(policy.assignments) or tuple(sorted(latest))
    maxima = {a: max_points(a, policy, latest.get(a, {})) for a in assignments}
    counted = {a: team_submissions(latest.get(a, {}), policy) for a in assignments}
    students = tuple(
        student_report(student, policy, assignments, maxima, counted, exam, roster, overrides or NO_OVERRIDES)
        for student in class_list(policy, latest, exam or {}, roster)
    )
    return ClassReport(
        policy, assignments, maxima, students, has_exam=exam is not None, overrides=overrides or NO_OVERRIDES
    )


def class_list(
    policy: CoursePolicy, latest: Latest, exam: dict[str, Fraction | None], roster: Roster | None = None
) -> list[str]:
    """Every student of the class: the roster's, once every other input is checked against it;
    without a roster, everyone the submissions, the course file and the exam file name."""
    graded = {student for by_student in latest.values() for student in by_student}
    teamed = {member for members in policy.teams.values() for member in members}
    if roster is None:
        return sorted(graded | teamed | set(policy.students) | set(exam))
    roster.check(graded, "the gradebook")
    roster.check(teamed, "the course file's [teams]")
    roster.check(exam, "the exam file")
    return sorted(roster.ids())


def max_points(assignment: str, policy: CoursePolicy, attempts: dict[str, Attempt]) -> float:
    configured = policy.assignments.get(assignment)
    if configured is not None and configured.max_points is not None:
        return configured.max_points
    return max((a.result.max_score for a in attempts.values()), default=0.0)


def team_submissions(attempts: dict[str, Attempt], policy: CoursePolicy) -> dict[str, Counted]:
    """The counted submission of every team that has one, by team name."""
    teams = {policy.team_of(student) for student in attempts}
    return {team: team_submission(team, policy.members(team), attempts) for team in teams}


def team_submission(team: str, members: tuple[str, ...], attempts: dict[str, Attempt]) -> Counted:
    """The most recent hand-in among the members' latest attempts counts for the whole team."""
    submitted = [attempts[m] for m in members if m in attempts]
    if not submitted:
        return Counted(None)
    chosen = max(submitted, key=lambda a: (handed_in(a), a.id))
    if len(submitted) == 1:
        return Counted(chosen)
    times = ", ".join(f"{a.student} {_when(a)}" for a in submitted)
    return Counted(
        chosen,
        (
            f"team {team}: {len(submitted)} members submitted ({times}); "
            f"the most recent, {chosen.student}'s, counts",
        ),
    )


def handed_in(attempt: Attempt) -> datetime:
    """When an attempt was handed in: ``submitted_at``, else when it was graded (a tie: the later id)."""
    return parse_time(attempt.submitted_at) or parse_time(attempt.graded_at) or _EARLIEST


def _when(attempt: Attempt) -> str:
    if attempt.submitted_at:
        return display_time(attempt.submitted_at)
    return f"{display_time(attempt.graded_at)} (graded; hand-in time unknown)"


def student_report(
    student: str,
    policy: CoursePolicy,
    assignments: tuple[str, ...],
    maxima: dict[str, float],
    counted: dict[str, dict[str, Counted]],
    exam: dict[str, Fraction | None] | None,
    roster: Roster | None = None,
    overrides: Overrides = NO_OVERRIDES,
) -> StudentReport:
    team = policy.team_of(student)
    mine = {a: counted[a].get(team, Counted(None)) for a in assignments}
    lines = [
        with_overrides(
            assignment_score(
                student,
                team,
                a,
                mine[a],
                policy,
                maxima[a],
                overrides.deadline(student, a, _deadline(policy, a)),
            ),
            overrides.of(student, a),
        )
        for a in assignments
    ]
    breakdown = bonus_breakdown(lines, policy)
    exam_points = None if exam is None else exam.get(student)
    return StudentReport(
        student,
        roster.name_of(student) if roster else policy.name_of(student),
        team,
        breakdown,
        attempts={a: mine[a].attempt for a in assignments},
        final=None if exam is None else final(exam_points, breakdown.bonus, policy),
    )


def _deadline(policy: CoursePolicy, assignment: str) -> datetime | None:
    configured = policy.assignments.get(assignment)
    return configured.deadline if configured else None


def assignment_score(
    student: str,
    team: str,
    assignment: str,
    counted: Counted,
    policy: CoursePolicy,
    maximum: float,
    deadline: datetime | None = None,
) -> AssignmentScore:
    configured = policy.assignments.get(assignment)
    weight = configured.weight if configured else 1.0
    attempt = counted.attempt
    if attempt is None:
        return AssignmentScore(
            assignment,
            Fraction(0),
            exact(maximum),
            exact(weight),
            notes=("no submission: 0 points",),
            deadline=deadline,
        )
    late = lateness(attempt.submitted_at, deadline, policy.late)
    notes = list(counted.notes)
    if attempt.student != student:
        notes.append(f"{attempt.student}'s submission counts for team {team}")
    if late.note:
        notes.append(late.note)
    return AssignmentScore(
        assignment,
        exact(attempt.result.score),
        exact(maximum),
        exact(weight),
        late,
        counted_from=attempt.student,
        submitted_at=attempt.submitted_at,
        notes=tuple(notes),
        deadline=deadline,
    )


def with_overrides(line: AssignmentScore, overrides: list[Override]) -> AssignmentScore:
    """``line`` with the instructor's adjustments and zeroing applied, each reason in its notes.
    (An extension has already moved the deadline its lateness was computed from.)"""
    if not overrides:
        return line
    adjustment = sum((o.points for o in overrides if o.kind == "adjustment"), Fraction(0))
    zeroed = any(o.kind == "zero" for o in overrides)
    return replace(
        line,
        adjustment=line.adjustment + adjustment,
        zeroed=line.zeroed or zeroed,
        notes=(*line.notes, *(o.note() for o in overrides)),
    )
