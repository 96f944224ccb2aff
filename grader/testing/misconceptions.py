"""Feedback that names the bug: a catalogue of misconceptions, recognised by what the code returns.

A hidden test says *that* a result is wrong. A misconception says *what* the student
did: "your Adam steps without the bias correction". A suite keeps its catalogue in
``misconceptions.py`` beside its tests (a public check folder may have one too):

    CATALOGUE = Catalogue("a4")

    @CATALOGUE.misconception(
        "adam-no-bias-correction",
        title="Adam without bias correction",
        did="Your Adam steps with m and v as they are, ...",
        asks="The handout divides m by 1 - beta1**t and v by 1 - beta2**t, ...",
        look="The lines of Adam's step that compute m_hat and v_hat.",
        tests=["test_adam_trajectory", "test_defaults_match_the_spec"],
    )
    def adam_without_bias_correction(student, device, suite):
        Adam = changed(optimizers, ('m_hat = state["m"] / (1 - self.beta1 ** state["t"])', ...)).Adam
        OptimizerPair(student, "Adam", tensors, reference=Adam).run(steps)

The function is a *probe*: it runs the student's code on inputs of its own and compares
what comes back with the outputs of the reference with that one change (``changed``),
raising ``AssertionError`` where they differ, exactly as a test does. When one of the
``tests`` fails, the grading plugin runs the probe (once per submission); if it passes,
the student's code does what the misconception does, and the failed test's message
starts with the misconception's paragraph (``paragraph``). That first line is what
reports count across the class (``key_of``). A probe that fails, raises or times out
names nothing: feedback never blames a misconception it has not seen.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.misconception_text import TAG, key_of, paragraph, split, with_paragraph

__all__ = [
    "Catalogue",
    "Misconception",
    "changed",
    "load_catalogue",
    "matches",
    "TAG",
    "key_of",
    "paragraph",
    "split",
    "with_paragraph",
]

FILE = "misconceptions.py"


@dataclass(frozen=True)
class Misconception:
    """One common bug, in a student's terms, and the probe that recognises it."""

    assignment: str
    key: str  # lower-case words joined by "-", unique in the assignment's catalogue
    title: str  # a few words: what the class overview lists
    did: str  # what the student's code does
    asks: str  # what the handout asks instead
    look: str  # where to look in their notebook
    tests: tuple[str, ...]  # hidden tests whose failure it may explain (a name matches its parameters)
    probe: Callable = field(repr=False)

    @property
    def id(self) -> str:
        return f"{self.assignment}/{self.key}"

    def explains(self, test_name: str) -> bool:
        return test_name in self.tests or test_name.split("[", 1)[0] in self.tests


class Catalogue:
    """The misconceptions of one assignment, in the order they were added."""

    def __init__(self, assignment: str) -> None:
        self.assignment = assignment
        self.entries: dict[str, Misconception] = {}

    def misconception(
        self, key: str, *, title: str, did: str, asks: str, look: str, tests: Iterable[str]
    ) -> Callable[[Callable], Callable]:
        """Decorator: add the decorated probe to the catalogue under ``key``."""
        if not re.fullmatch(r"[a-z0-9-]+", key) or key in self.entries:
            raise ValueError(f"misconception key {key!r} must be new, lower-case words joined by '-'")

        def add(probe: Callable) -> Callable:
            entry = Misconception(self.assignment, key, title, did, asks, look, tuple(tests), probe)
            self.entries[key] = entry
            return probe

        return add

    def for_test(self, test_name: str) -> list[Misconception]:
        return [m for m in self.entries.values() if m.explains(test_name)]

    def __iter__(self):
        return iter(self.entries.values())


# ----------------------------------------------------------------- catalogues and probes


def load_catalogue(folder: Path) -> Catalogue | None:
    """The ``CATALOGUE`` of ``folder/misconceptions.py``, or None when the folder has none.

    Loaded under a name of its own, from its path (suites are not packages); the module
    is registered in ``sys.modules`` so that ``stream._import_from`` forgets it with the
    suite, and an edited catalogue is read again by the next ``grade()``.
    """
    path = Path(folder) / FILE
    if not path.is_file():
        return None
    name = f"dlgrade_misconceptions_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # a .py path always has a loader; said, not assumed
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    catalogue = getattr(module, "CATALOGUE", None)
    if not isinstance(catalogue, Catalogue):
        raise TypeError(f"{path} must define CATALOGUE = Catalogue(...)")
    return catalogue


def changed(module: types.ModuleType, *edits: tuple[str, str]) -> types.ModuleType:
    """A fresh copy of ``module`` with each ``(old, new)`` edit made to its source, once.

    This is "the reference with that one change": the misconception's outputs come from
    the reference's own code, not from a second implementation that could drift from it.
    Names the module imports are imported again; the module itself is not touched.
    """
    if module.__file__ is None:
        raise ValueError(f"{module.__name__} has no source file to change")
    source = Path(module.__file__).read_text()
    for old, new in edits:
        if source.count(old) != 1:
            raise ValueError(f"{module.__name__}: {old!r} must occur exactly once")
        source = source.replace(old, new)
    copy = types.ModuleType(f"{module.__name__}__changed")
    copy.__file__ = module.__file__
    exec(compile(source, f"{module.__file__} (changed)", "exec"), copy.__dict__)  # noqa: S102  (our reference)
    return copy


def matches(misconception: Misconception, student, device, suite) -> bool:
    """Whether the student's code returns what ``misconception`` does, on its probe's inputs.

    Anything but a clean pass (a difference, a student error, a timeout, a crash) is
    "no": a misconception is only named when its outputs were seen.
    """
    try:
        misconception.probe(student, device, suite)
    except Exception:  # noqa: BLE001  (AssertionError, StudentProblem, a probe's own bug: none is a match)
        return False
    return True
