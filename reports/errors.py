"""The one error reports raise on purpose; the command turns it into a message and exit code 1.

DlgradeError            (grader.errors)
└── ReportError         no gradebook, or an exam file that cannot be read
"""

from __future__ import annotations

from grader.errors import DlgradeError


class ReportError(DlgradeError):
    """A report cannot be made from what it was given; the message says which file and why."""
