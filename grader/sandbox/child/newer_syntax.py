"""Name the newer-Python construct behind a syntax error, instead of a bare "invalid syntax".

A student who writes in Colab writes for Colab's Python (3.12 and later); the grader may
run an older one. ``f"{d["key"]}"`` is fine in 3.12 and a syntax error in 3.11, which
says only ``f-string: unmatched '['``. The note then names the construct, the Python it
needs and the Python the grader runs, so the student knows what to change.

Each construct is recognised on the line the error points at, and only where this Python
is older than the one it needs. Standard library only: the worker imports it from its folder.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Construct:
    needs: tuple[int, int]  # the first Python with it
    what: str  # named for a student
    fix: str
    matches: Callable[[str, str], bool]  # (the error's line, the error's message)


def _regex(pattern: str) -> Callable[[str, str], bool]:
    compiled = re.compile(pattern)
    return lambda line, message: compiled.search(line) is not None


def _f_string_nesting(line: str, message: str) -> bool:
    """An f-string whose ``{...}`` reuses the string's own quote or holds a backslash (PEP 701)."""
    return message.startswith("f-string") and any(_nests(line, start) for start in _f_string_starts(line))


_F_START = re.compile(r"(?<![\w.])(?:[fF][rR]?|[rR][fF])('|\")")


def _f_string_starts(line: str) -> list[int]:
    return [match.end() - 1 for match in _F_START.finditer(line)]


def _nests(line: str, quote_at: int) -> bool:
    """Read the f-string whose opening quote is at ``quote_at``: does an expression part use
    that quote again, or a backslash?"""
    quote, depth, i = line[quote_at], 0, quote_at + 1
    inner: str | None = None  # the quote of a string inside an expression part
    while i < len(line):
        char = line[i]
        if depth and char == "\\":
            return True
        if inner is not None:
            inner = None if char == inner else inner
        elif depth and char == quote:
            return True
        elif depth and char in "'\"":
            inner = char
        elif char == quote:
            return False  # the f-string ended without nesting
        elif char == "{" and not depth and line.startswith("{{", i):
            i += 1  # a literal brace
        elif char == "{":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        i += 1
    return False


CONSTRUCTS = (
    Construct(
        (3, 12),
        "an f-string that reuses its quotes or holds a backslash inside {...} (PEP 701)",
        "use the other kind of quotes inside the braces, or compute the value on the line before",
        _f_string_nesting,
    ),
    Construct(
        (3, 12),
        "a `type X = ...` alias statement (PEP 695)",
        "write `X = ...` instead",
        _regex(r"^\s*type\s+[A-Za-z_]\w*\s*(\[[^\]]*\])?\s*="),
    ),
    Construct(
        (3, 12),
        "type parameters on a function or class (`def f[T](...)`, `class C[T]`, PEP 695)",
        "use `typing.TypeVar`, or leave the type parameters out",
        _regex(r"^\s*(async\s+def|def|class)\s+[A-Za-z_]\w*\s*\["),
    ),
    Construct(
        (3, 14),
        "`except A, B:` without parentheses (PEP 758)",
        "write `except (A, B):`",
        lambda line, message: message.startswith("multiple exception types must be parenthesized"),
    ),
    Construct(
        (3, 14),
        'a template string `t"..."` (PEP 750)',
        "use an f-string",
        _regex(r"(?<![\w.])(?:[tT][rR]?|[rR][tT])['\"]"),
    ),
)


def newer_construct(line: str, message: str, version: tuple[int, int] | None = None) -> Construct | None:
    """The newer-Python construct a syntax error on ``line`` comes from, if it is one."""
    version = version or sys.version_info[:2]
    return next((c for c in CONSTRUCTS if version < c.needs and c.matches(line, message)), None)


def syntax_message(exc: BaseException, source: str) -> str:
    """A note on why a cell does not parse, naming newer syntax where that is the cause."""
    if not isinstance(exc, SyntaxError):
        return f"{type(exc).__name__} while parsing"
    text = f"SyntaxError at line {exc.lineno}: {exc.msg}"
    lines = source.splitlines()
    line = lines[exc.lineno - 1] if exc.lineno and 0 < exc.lineno <= len(lines) else (exc.text or "")
    construct = newer_construct(line, str(exc.msg))
    if construct is None:
        return text
    running = ".".join(map(str, sys.version_info[:3]))
    needs = ".".join(map(str, construct.needs))
    return (
        f"{text}. Line {exc.lineno} uses {construct.what}, which needs Python {needs} or later; "
        f"the grader runs Python {running}: {construct.fix}"
    )
