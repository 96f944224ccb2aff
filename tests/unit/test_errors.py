"""grader/errors.py draws dlgrade's error classes as trees: the drawing is the code's."""

import importlib
import pkgutil
import re

import grader
import reports
from grader import errors
from grader.errors import DlgradeError, StudentProblem

DRAWN = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w+)(?:\s+\[(?P<module>[\w/.]+)\])?")


def drawn_tree() -> dict[str, tuple[str | None, str | None]]:
    """Each class the docstring draws: (its parent in the drawing, the module in brackets)."""
    trees = [part for part in errors.__doc__.split("\n\n") if "└──" in part]  # each tree a paragraph
    drawn, open_at = {}, []  # open_at: (column, name) of each ancestor of the next line
    for line in "\n".join(trees).splitlines():
        match = DRAWN.match(line)
        column = len(match["indent"])
        while open_at and open_at[-1][0] >= column:
            open_at.pop()
        drawn[match["name"]] = (open_at[-1][1] if open_at else None, match["module"])
        open_at.append((column, match["name"]))
    return drawn


def real_classes() -> dict[str, type]:
    """Every subclass of the two roots, once every module of the engine is imported."""
    for package in (grader, reports):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if module.name != "grader.sandbox.child.loading":  # runs inside the worker, beside its siblings
                importlib.import_module(module.name)
    found, todo = {}, [DlgradeError, StudentProblem]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


def test_the_drawing_is_the_class_tree():
    drawn, real = drawn_tree(), real_classes()
    assert set(drawn) - {"AssertionError"} == set(real), "drawn but not defined, or defined but not drawn"
    for name, (parent, module) in drawn.items():
        if name == "AssertionError":
            continue
        cls = real[name]
        assert (parent or "Exception") == cls.__bases__[0].__name__, f"{name}'s parent"
        expected = module.removesuffix(".py").replace("/", ".") if module else "errors"
        assert cls.__module__.endswith(expected), f"{name} lives in {cls.__module__}"


def test_a_student_problem_is_a_failed_test_not_dlgrades_error():
    assert issubclass(StudentProblem, AssertionError) and not issubclass(StudentProblem, DlgradeError)
