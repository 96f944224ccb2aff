"""IPython magics and shell escapes, which plain Python cannot run, made harmless.

Shared by the worker (which loads a notebook's cells) and the trusted side (which
reads them for the similarity check), so both see the same code. The worker imports
it as ``magics`` from its own folder, like ``wire``: nothing else of dlgrade is in its view.
"""

from __future__ import annotations

MAGIC_NOTE = "pass  # dlgrade: removed an IPython magic or shell escape"


def neutralise_magics(source: str) -> tuple[str | None, bool]:
    """Replace each ``%magic`` or ``!shell`` line by ``pass`` at its indentation, so blocks
    stay valid and line numbers stay put.

    Returns (source or None when the whole cell is a cell magic, whether anything changed).
    """
    lines = source.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("%%"):
        return None, True
    changed = False
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            lines[i] = line[: len(line) - len(stripped)] + MAGIC_NOTE
            changed = True
    return "\n".join(lines), changed
