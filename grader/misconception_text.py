"""How a misconception reads in a test's message, and how reports find it again (no torch here).

A failed test whose submission showed a catalogued misconception (``grader/testing/
misconceptions.py``) has a message that starts with a paragraph:

    Misconception a4/adam-no-bias-correction: Adam without bias correction
    What your code does: ...
    What the handout asks: ...
    Where to look: ...

    <the test's own message>

The first line is what the class overview counts (``key_of``); the student's page shows
the paragraph apart from the rest (``split``).
"""

from __future__ import annotations

import re
from typing import Protocol

TAG = "Misconception"
_FIRST_LINE = re.compile(rf"^{TAG} ([a-z0-9_]+/[a-z0-9-]+): (.+)$")


class Named(Protocol):
    """What a paragraph needs of a misconception."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def did(self) -> str: ...
    @property
    def asks(self) -> str: ...
    @property
    def look(self) -> str: ...


def paragraph(misconception: Named) -> str:
    """What a student reads first in a failed test's message."""
    return (
        f"{TAG} {misconception.id}: {misconception.title}\n"
        f"What your code does: {misconception.did}\n"
        f"What the handout asks: {misconception.asks}\n"
        f"Where to look: {misconception.look}"
    )


def with_paragraph(misconception: Named | None, message: str) -> str:
    """``message`` led by the misconception's paragraph; without one, a message that could be
    mistaken for one (a first line starting with ``TAG``) is indented, so it never counts."""
    if misconception is not None:
        return f"{paragraph(misconception)}\n\n{message}"
    return f" {message}" if message.startswith(TAG) else message


def key_of(message: str) -> tuple[str, str] | None:
    """``(id, title)`` of the misconception a test's message starts with, else None."""
    match = _FIRST_LINE.match(message.split("\n", 1)[0])
    return (match.group(1), match.group(2)) if match else None


def split(message: str) -> tuple[str, str]:
    """``(paragraph, the test's own message)``; the paragraph is "" when there is none."""
    if key_of(message) is None:
        return "", message
    head, _, rest = message.partition("\n\n")
    return head, rest
