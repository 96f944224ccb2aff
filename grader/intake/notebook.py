"""Notebook intake: turn a submitted file into the source of its code cells.

Nothing is executed here, and nothing is parsed as Python: the worker does that,
on the untrusted side (see ``sandbox/child/worker.py``: magics, syntax errors, and which
statements run). This module only has to survive whatever a student uploads:
nbformat 4 and 3 (upgraded), sources as strings or lists, missing cell ids (Colab),
empty files, invalid JSON and binary junk, which all become a ``NotebookError``.
A ``.py`` file is one cell.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import nbformat

from grader.errors import NotebookError

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024


def read_cells(path: str | Path) -> list[str]:
    """The code cells of a submission, in notebook order."""
    path = Path(path)
    try:
        with path.open("rb") as handle:  # one byte past the limit says "too large": never all of it
            raw = handle.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as exc:
        raise NotebookError(f"cannot read the file: {exc.strerror}") from None
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    if not raw.strip():
        raise NotebookError("the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError("the file is not text (binary data, not a notebook)") from None
    if path.suffix == ".py":
        return [text]
    return _code_cells(_parse_notebook(text))


def _parse_notebook(text: str) -> dict:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise NotebookError(f"the file is not valid notebook JSON: {exc}") from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise NotebookError("the file is JSON but not a Jupyter notebook (no 'nbformat')")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing ids and other schema nits are fine
            return nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001  (nbformat raises many kinds on junk)
        raise NotebookError(f"the notebook cannot be read: {type(exc).__name__}: {exc}") from None


def _code_cells(notebook: dict) -> list[str]:
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise NotebookError("the notebook has no list of cells")
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources.append("".join(source) if isinstance(source, list) else str(source))
    return sources
