"""Helpers shared by dlgrade's own tests (a plain module: conftest names collide)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]  # the checkout
COURSE = ROOT / "course"  # this repository's course
COURSE = ROOT / "course"  # this repository\'s course

_REFERENCE_IMPORT = re.compile(r"^from reference\.(\w+)\.(\w+) import .*$", re.MULTILINE)


def flatten_reference(assignment: str) -> str:
    """The reference of ``assignment`` as one file, the way a student's notebook holds it.

    Modules that import from other reference modules (a3 uses a2's forward pass) come
    after them; the ``from reference... import`` lines themselves are dropped, since
    every name now lives in one namespace.
    """
    order: list[Path] = []

    def visit(path: Path) -> None:
        if path in order:
            return
        for package, module in _REFERENCE_IMPORT.findall(path.read_text()):
            visit(COURSE / "reference" / package / f"{module}.py")
        order.append(path)

    for path in sorted((COURSE / "reference" / assignment).glob("*.py")):
        if path.name != "__init__.py":
            visit(path)
    parts = [f"# ---- {p.relative_to(COURSE)}\n{_REFERENCE_IMPORT.sub('', p.read_text())}" for p in order]
    return "\n\n".join(parts)


def write_mutant(folder: Path, name: str, source: str, old: str, new: str) -> Path:
    """A copy of ``source`` with one change; fails loudly if ``old`` is not there once."""
    assert source.count(old) == 1, f"mutant {name}: {old!r} must occur exactly once"
    path = folder / f"{name}.py"
    path.write_text(source.replace(old, new))
    return path


def write_misconception(folder: Path, key: str, source: str, edits: list[tuple[str, str]]) -> Path:
    """A copy of ``source`` with every ``(old, new)`` edit made once: a notebook with one misconception."""
    for old, new in edits:
        assert source.count(old) == 1, f"misconception {key}: {old!r} must occur exactly once"
        source = source.replace(old, new)
    path = folder / f"misconception_{key.replace('#', '_')}.py"
    path.write_text(source)
    return path


def grade_self_test(
    course,
    folder: Path,
    assignment: str,
    reference: str,
    mutants: dict,
    variant: str,
    misconceptions: dict | None = None,
) -> dict:
    """Grade, in one batch, what tells whether a hidden suite is right: the reference, the
    source notebook, the untouched student notebook, a legitimate variant, one mutant of
    ``reference`` per hidden test (``mutants``: test name -> (old, new)), and one notebook
    per catalogued misconception (``misconceptions``: key -> [(old, new), ...]).

    ``reference`` is the reference's source text (``flatten_reference(assignment)``).
    Returns the results keyed by "reference", "source", "student", "variant", test name
    and "misconception:<key>".
    """
    from grader.grading.grade import grade

    misconceptions = misconceptions or {}
    reference_path = folder / "reference.py"
    reference_path.write_text(reference)
    mutant_paths = [
        write_mutant(folder, f"m{i:02d}", reference, *change) for i, change in enumerate(mutants.values())
    ]
    misconception_paths = [
        write_misconception(folder, key, reference, edits) for key, edits in misconceptions.items()
    ]
    variant_path = folder / "variant.py"
    variant_path.write_text(variant)
    notebook = f"{assignment}/{assignment}.ipynb"
    paths = [
        reference_path,
        COURSE / "source" / notebook,
        COURSE / "assignments" / notebook,
        variant_path,
        *mutant_paths,
        *misconception_paths,
    ]
    # No preflight: the reference is graded in this very batch, and its full marks are a test.
    results = grade([str(p) for p in paths], assignment=assignment, course=course, workers=1, preflight=False)
    names = [
        "reference",
        "source",
        "student",
        "variant",
        *mutants,
        *(f"misconception:{key}" for key in misconceptions),
    ]
    return dict(zip(names, results, strict=True))


def named_misconceptions(result) -> set[str]:
    """The ids of the misconceptions a result's failed tests name."""
    from grader.misconception_text import key_of

    return {key_of(t.message)[0] for t in result.tests if key_of(t.message)}


def load_suite(assignment: str):
    """``suites/<assignment>/test_<assignment>.py`` as a module, for what its helpers compute."""
    import importlib.util
    import sys

    name = f"{assignment}_hidden_suite"
    if name not in sys.modules:
        path = COURSE / "suites" / assignment / f"test_{assignment}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


def probes_that_match(assignment: str, source: str) -> list[str]:
    """Every probe of ``assignment``'s catalogue run, forced, against ``source`` in a worker:
    the ids of those that match. Correct work must match none."""
    import torch

    from grader.sandbox.remote import Student
    from grader.sandbox.session import Session
    from grader.testing.misconceptions import load_catalogue, matches

    catalogue = load_catalogue(COURSE / "suites" / assignment)
    suite = load_suite(assignment)
    session = Session([source])
    session.start()
    try:
        student = Student(session)
        found = []
        for misconception in catalogue:
            session.begin_test(None)
            if matches(misconception, student, torch.device("cpu"), suite):
                found.append(misconception.id)
        return found
    finally:
        session.close()


def assert_full_marks(result, total: float) -> None:
    failing = {t.name: t.message for t in result.tests if t.outcome != "passed"}
    assert result.status == "graded" and failing == {}
    assert result.score == result.max_score == total


def assert_untouched_gets_zero(result) -> None:
    assert result.score == 0
    assert {t.outcome for t in result.tests} == {"not_implemented"}


def assert_mutant_caught(result, test_name: str, total: float) -> None:
    verdicts = {t.name: t for t in result.tests}
    assert verdicts[test_name].outcome == "failed", verdicts[test_name]
    assert verdicts[test_name].message  # a reason the student can read
    assert result.score < total


class SuiteSelfTest:
    """The four checks every hidden suite passes; a subclass names its suite's parts.

        class TestA4Suite(SuiteSelfTest):
            ASSIGNMENT, FULL_MARKS, MUTANTS, VARIANT = "a4", 24, MUTANTS, VARIANT

    One batch grades everything (``grade_self_test``); the tests read its results.
    """

    ASSIGNMENT: str
    FULL_MARKS: float
    MUTANTS: dict
    VARIANT: str
    MISCONCEPTIONS: dict = {}  # key -> [(old, new), ...]: a notebook per catalogued misconception;
    # "key#other" is one more notebook for the same key, written another way

    def pytest_generate_tests(self, metafunc):
        if "submission" in metafunc.fixturenames:
            metafunc.parametrize("submission", ["reference", "source", "variant"])
        if "test_name" in metafunc.fixturenames:
            metafunc.parametrize("test_name", list(self.MUTANTS))
        if "misconception" in metafunc.fixturenames:
            metafunc.parametrize("misconception", list(self.MISCONCEPTIONS))

    @pytest.fixture(scope="class")
    @classmethod
    def graded(cls, tmp_path_factory, course):
        """One grading of the reference, mutants and variants, shared by the class's tests
        (a class method: pytest >= 9.1 refuses class-scoped fixtures on instances)."""
        folder = tmp_path_factory.mktemp(cls.ASSIGNMENT)
        reference = flatten_reference(cls.ASSIGNMENT)
        return grade_self_test(
            course, folder, cls.ASSIGNMENT, reference, cls.MUTANTS, cls.VARIANT, cls.MISCONCEPTIONS
        )

    def test_the_suite_has_a_mutant_for_every_test(self, graded):
        assert {t.name for t in graded["reference"].tests} == set(self.MUTANTS)

    def test_correct_work_gets_full_marks(self, graded, submission):
        assert_full_marks(graded[submission], self.FULL_MARKS)

    def test_the_untouched_student_notebook_gets_zero(self, graded):
        assert_untouched_gets_zero(graded["student"])

    def test_each_mutant_is_caught_by_its_test(self, graded, test_name):
        assert_mutant_caught(graded[test_name], test_name, self.FULL_MARKS)

    # ------------------------------------------------------------ misconceptions

    def test_every_catalogued_misconception_has_a_notebook(self):
        from grader.testing.misconceptions import load_catalogue

        catalogue = load_catalogue(COURSE / "suites" / self.ASSIGNMENT)
        assert {m.key for m in catalogue or []} == {key.split("#")[0] for key in self.MISCONCEPTIONS}

    def test_a_notebook_with_a_misconception_is_told_that_one(self, graded, misconception):
        result = graded[f"misconception:{misconception}"]
        assert result.score < self.FULL_MARKS
        expected = f"{self.ASSIGNMENT}/{misconception.split('#')[0]}"
        named = named_misconceptions(result)
        assert named == {expected}, {t.name: t.message[:300] for t in result.tests if t.outcome != "passed"}

    def test_correct_work_is_never_told_a_misconception(self, graded, submission):
        assert named_misconceptions(graded[submission]) == set()

    def test_no_probe_matches_correct_work_even_when_forced(self):
        for source in (flatten_reference(self.ASSIGNMENT), self.VARIANT):
            assert probes_that_match(self.ASSIGNMENT, source) == []


def record_requests(session, monkeypatch) -> list[str]:
    """The ops a ``Session`` sends from now on (one per round trip to its worker)."""
    sent: list[str] = []
    original = session.request

    def request(message: dict, what: str, generation: int | None = None):
        sent.append(message["op"])
        return original(message, what, generation)

    monkeypatch.setattr(session, "request", request)
    return sent


def mount_points_in_tmp() -> set[str]:
    """When dlgrade or its Python lives under /tmp (a CI clone, a venv), the worker's /tmp
    holds the empty folders leading to their read-only binds: not a previous worker's files."""
    from grader.sandbox import process

    tmp = Path("/tmp")
    bound = [process.WORKER_SCRIPT.parent, *map(Path, process._python_paths())]
    return {path.relative_to(tmp).parts[0] for path in bound if tmp in path.parents}
