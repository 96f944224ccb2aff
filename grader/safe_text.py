"""Student-controlled text, made safe for every place the trusted side writes it.

A submission controls more text than its code: what its functions raise and print,
the notes its cells cause, the fields of its notebook and the name of its file. That
text ends up in SQLite (which refuses a lone surrogate), in JSON read by other tools
(which refuse one too), in HTML and CSV reports, and on the instructor's terminal,
where an escape sequence can rewrite the line above it, set the window title or, with
OSC 52, write the clipboard. Everything that reaches one of those sinks goes through
this module first::

    text(message, 1500)     many lines: keeps newlines and tabs
    line(file_name)         one line: newlines and tabs are escaped too
    result(submission)      a SubmissionResult with every field the student controls made safe

What is escaped (written as visible ``\\xNN`` or ``\\uNNNN`` text, never dropped, so an
instructor still sees that something was there):

- C0 and C1 control characters and DEL: ESC starts every ANSI and OSC sequence, CR
  returns to the start of the line, BEL ends an OSC, U+009B is a one-character CSI;
- lone surrogates: a code point no UTF-8 encoder accepts. A file name that is not
  valid UTF-8 reaches Python as ``\\udcNN`` (surrogateescape); it is shown as the byte
  it stands for, ``\\xNN``;
- the bidirectional overrides and isolates and the Unicode line separators, which
  reorder or break what a reader sees without any control character.

Text longer than its limit is cut, and says how much was cut. Every function is
idempotent: applying it to its own result changes nothing, so two sinks in a row are
harmless.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.results.records import SubmissionResult

TEXT_CHARS = 4000  # a message or a note
LINE_CHARS = 4096  # a file name or path (PATH_MAX), a student id
OUTPUT_CHARS = 1_000_000  # what a submission printed, already capped in bytes by the sandbox
TEST_MESSAGE_CHARS = 1500  # plugin.MESSAGE_CHARS
NOTES = 200  # notes kept per submission
CUT = "... [{} characters cut]"


def text(value: object, limit: int = TEXT_CHARS) -> str:
    """Text of many lines, safe for every sink: see the module's docstring."""
    return _cap(_as_str(value, limit).translate(_IN_TEXT), limit)


def line(value: object, limit: int = LINE_CHARS) -> str:
    """One line of text (a name, a path, a terminal line): newlines and tabs escaped too."""
    return _cap(_as_str(value, limit).translate(_IN_LINE), limit)


def result(submitted: SubmissionResult) -> SubmissionResult:
    """``submitted`` with every field a submission can influence made safe and capped:
    its path, message, notes, output and every test's name and message."""
    tests = tuple(
        replace(test, name=line(test.name, 500), message=text(test.message, TEST_MESSAGE_CHARS))
        for test in submitted.tests
    )
    return replace(
        submitted,
        submission=line(submitted.submission),
        status=line(submitted.status, 40),
        message=text(submitted.message),
        notes=tuple(text(note) for note in submitted.notes[:NOTES]),
        output=text(submitted.output, OUTPUT_CHARS),
        sha256=line(submitted.sha256, 64),
        tests=tests,
    )


def _as_str(value: object, limit: int) -> str:
    """A str, from a str, bytes (undecodable bytes kept as surrogates) or anything else.
    Only a little more than ``limit`` is kept before escaping: a 50 MB message costs no
    more than a short one (escaping at most sextuples it, and ``_cap`` cuts again)."""
    if isinstance(value, bytes):
        value = value[: 4 * limit + 4].decode("utf-8", "surrogateescape")
    elif not isinstance(value, str):
        value = str(value)
    if len(value) > limit:
        return value[:limit] + _cut_marker(len(value) - limit)
    return value


def _escape(point: int) -> str:
    if 0xDC80 <= point <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{point - 0xDC00:02x}"
    return f"\\x{point:02x}" if point < 0x80 else f"\\u{point:04x}"


def _cap(value: str, limit: int) -> str:
    """At most ``limit`` characters, ending with how many were cut when some were."""
    if len(value) <= limit:
        return value
    cut = _CUT_AT_END.search(value)
    already = int(cut.group(1)) if cut else 0
    body = value[: cut.start()] if cut else value
    keep = limit - len(_cut_marker(already + len(body)))  # the marker at its longest
    if keep <= 0:  # no room to say so
        return body[:limit]
    return body[:keep] + _cut_marker(already + len(body) - keep)


def _cut_marker(count: int) -> str:
    return CUT.format(count)


_CUT_AT_END = re.compile(r"\.\.\. \[(\d+) characters cut\]\Z")


# What is escaped, as ``str.translate`` tables (a C loop: 64 KiB of escapes in about a ms)
_UNSAFE = [
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x2028,
    0x2029,
    *range(0xD800, 0xE000),
]
_IN_LINE = {point: _escape(point) for point in _UNSAFE}
_IN_TEXT = {point: escaped for point, escaped in _IN_LINE.items() if chr(point) not in "\n\t"}
