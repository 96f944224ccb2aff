"""Every error dlgrade raises on purpose, in two trees (tests/unit/test_errors.py compares this
drawing with the classes). Most live here; a class that belongs to one step lives in that
step's module, named in brackets.

    DlgradeError               expected, with a message for the user: one line, no traceback (commands.py)
    ├── NotebookError          the file is not a notebook we can read      -> status "invalid_notebook"
    ├── SuiteError             a hidden suite or assignment is broken      -> status "error"
    │   └── PreflightFailed        the reference itself loses points here: the batch stops
    ├── HarnessFailure         one of dlgrade's own steps failed           -> outcome and status "error"
    ├── GradebookError         the gradebook file cannot be read or written: one line, the file named
    ├── LoadFailed             the submission's code could not be loaded   -> status "timeout" / "killed"
    ├── DeviceError            [devices.py] the device asked for does not exist on this machine
    ├── CourseFileError        [course_file.py] course.toml lacks a value or holds a senseless one
    ├── RosterError            [roster.py] a name is not on the roster, or the roster cannot be read
    ├── MarkerError            [assign.py] a solution marker the parser refuses, or unpaired regions
    ├── LeakError              [release.py] the student bundle would hold course secrets
    ├── SchedulerError         [distributed.py] the Dask scheduler cannot be reached or went away
    └── ReportError            [reports/errors.py] a report cannot be made from what it was given

    AssertionError             Python's own: pytest reports it as a failed test, not an error
    └── StudentProblem         raised inside a hidden test: that test loses its points
        ├── StudentRaised          the student's function raised an exception
        │   └── NotImplementedYet      ... NotImplementedError: the stub is untouched
        ├── StudentMissing         the submission does not define the name
        ├── StudentTimeout         the call did not return before the test's deadline
        ├── StudentCrashed         the worker died (os._exit, a signal, a broken protocol)
        ├── BadReturn              the value cannot cross the boundary (type, dtype, device)
        └── BudgetExhausted        the submission's wall-clock budget was spent earlier

A StudentProblem carries an ``outcome`` (the word that ends up in the results file)
and a message written for the student. Failures in the worker arrive as plain data
and are rebuilt here, on the trusted side. It is no DlgradeError: it is a verdict on
the student's code, not dlgrade's failure, and pytest must count it as a failed test.

Two families stay inside the sandbox's trusted side and never reach a user as they are
(the sandbox turns them into a StudentProblem, a LoadFailed or a HarnessFailure):
``WorkerError`` (``WorkerTimeout``, ``WorkerDied``) in ``sandbox/process.py`` and
``WireError`` (``WireClosed``, ``WireTimeout``) in ``sandbox/child/wire.py``.
"""

from __future__ import annotations


class DlgradeError(Exception):
    """Base of every error dlgrade raises on purpose."""


class NotebookError(DlgradeError):
    """The submission file cannot be read as a notebook or Python source."""


class SuiteError(DlgradeError):
    """The hidden suite itself is broken; no submission is to blame."""


class PreflightFailed(SuiteError):
    """The assignment's own reference does not get full marks in this sandbox, device and
    limits: every student would be graded wrong, so no student is graded at all."""


class HarnessFailure(DlgradeError):
    """One of dlgrade's own steps failed while grading (starting or restarting a worker,
    seeding it, sending a request): no verdict on the student's code.

    The test's outcome and the submission's status are ``error``, which the gradebook
    never reuses: the next run grades the submission again. Raised inside a hidden test,
    it is not an AssertionError, so pytest reports it as an error, not a failed test.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class GradebookError(DlgradeError):
    """The gradebook file cannot be opened, read or written (read-only, full disk, corrupt,
    locked): a one-line message that names the file."""


class LoadFailed(DlgradeError):
    """Loading the submission's code ended the worker; ``status`` is the submission status."""

    def __init__(self, status: str, message: str, outside: bool = False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.outside = outside  # killed from outside while loading: not the student's doing


class StudentProblem(AssertionError):
    """A hidden test fails because of what the student's code did.

    It subclasses AssertionError so that pytest reports it as a plain test failure.
    """

    outcome = "failed"

    def __init__(self, message: str, *, traceback: str = ""):
        super().__init__(message)
        self.message = message
        self.student_traceback = traceback


class StudentRaised(StudentProblem):
    outcome = "failed"


class NotImplementedYet(StudentRaised):
    outcome = "not_implemented"


class StudentMissing(StudentProblem):
    outcome = "missing"


class StudentTimeout(StudentProblem):
    """The call did not return in time. ``wall_clock``: the clock ran out (the wall-clock
    backstop, or a limit where CPU time cannot be read), not the worker's CPU time."""

    outcome = "timeout"

    def __init__(self, message: str, *, traceback: str = "", wall_clock: bool = False):
        super().__init__(message, traceback=traceback)
        self.wall_clock = wall_clock


class StudentCrashed(StudentProblem):
    """The worker died. ``outside``: not by the student's code (a SIGKILL dlgrade did not
    send, a lost fork server): the test is run again, and is ``error`` if that happens twice."""

    outcome = "crashed"

    def __init__(self, message: str, *, traceback: str = "", outside: bool = False):
        super().__init__(message, traceback=traceback)
        self.outside = outside


class BadReturn(StudentProblem):
    outcome = "failed"


class BudgetExhausted(StudentProblem):
    outcome = "timeout"


def rebuild(error: dict, what: str) -> StudentProblem:
    """Turn an error reply from the worker (plain data) into the exception to raise here."""
    kind = str(error.get("kind", ""))
    name = str(error.get("type", "Exception"))[:100]
    message = str(error.get("message", ""))[:1000]
    trace = str(error.get("traceback", ""))[:4000]
    if kind == "missing":
        return StudentMissing(f"{what}: {message}")
    if kind == "unsupported":
        return BadReturn(f"{what} returned a value that cannot be graded: {message}")
    if name == "NotImplementedError":
        return NotImplementedYet(f"{what} is not implemented yet (raises NotImplementedError)")
    return StudentRaised(f"{what} raised {name}: {message}", traceback=trace)
