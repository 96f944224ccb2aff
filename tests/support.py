"""Helpers shared by dlgrade's own tests (a plain module: conftest names collide)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_mutant(folder: Path, name: str, source: str, old: str, new: str) -> Path:
    """A copy of ``source`` with one change; fails loudly if ``old`` is not there once."""
    assert source.count(old) == 1, f"mutant {name}: {old!r} must occur exactly once"
    path = folder / f"{name}.py"
    path.write_text(source.replace(old, new))
    return path
