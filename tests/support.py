"""Helpers shared by dlgrade's own tests (a plain module: conftest names collide)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_mutant(folder: Path, name: str, source: str, old: str, new: str) -> Path:
    """A copy of ``source`` with one change; fails loudly if ``old`` is not there once."""
    assert source.count(old) == 1, f"mutant {name}: {old!r} must occur exactly once"
    path = folder / f"{name}.py"
    path.write_text(source.replace(old, new))
    return path


def grade_self_test(course, folder: Path, assignment: str, reference: Path, mutants: dict,
                    variant: str) -> dict:  # fmt: skip
    """Grade, in one batch, what tells whether a hidden suite is right: the reference, the
    source notebook, the untouched student notebook, a legitimate variant, and one mutant
    of ``reference`` per hidden test (``mutants``: test name -> (old, new)).

    Returns the results keyed by "reference", "source", "student", "variant" and test name.
    """
    from grader.grading import grade

    source = reference.read_text()
    mutant_paths = [write_mutant(folder, f"m{i:02d}", source, *change)
                    for i, change in enumerate(mutants.values())]  # fmt: skip
    variant_path = folder / "variant.py"
    variant_path.write_text(variant)
    notebook = f"{assignment}/{assignment}.ipynb"
    paths = [reference, ROOT / "source" / notebook, ROOT / "assignments" / notebook, variant_path,
             *mutant_paths]  # fmt: skip
    results = grade([str(p) for p in paths], assignment=assignment, course=course)
    return dict(zip(["reference", "source", "student", "variant", *mutants], results, strict=True))


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
