"""IPython magics and shell escapes, which plain Python cannot run, made harmless.

Shared by the worker (which loads a notebook's cells) and the trusted side (which
reads them for the similarity check), so both see the same code. The worker imports
it as ``magics`` from its own folder, like ``wire``: nothing else of dlgrade is in its view.

A magic is what IPython takes for one: ``%magic``, ``!shell``, ``x = %magic``,
``x = !shell`` and ``obj?``, each only at the start of a *logical* line. A ``%`` or ``!``
that starts a continuation line is Python (``% (epoch + 1, loss)`` under a
black-formatted ``print("..."``, ``!= y[i])`` inside brackets), and so is one inside a
string. Where IPython is installed its own reader finds them (``_ipython_spans``);
otherwise a small scanner of brackets, strings and backslashes does (``_scanned_spans``).
"""

from __future__ import annotations

import importlib.util
import os
import re

MAGIC_NOTE = "pass  # dlgrade: removed an IPython magic or shell escape"
# Cell magics whose body IPython runs as Python in the notebook's namespace: kept, without the magic.
PYTHON_CELL_MAGICS = ("time", "capture")

# A cell with none of these cannot hold a magic: no tokenising needed (most cells).
_MAYBE_MAGIC = re.compile(r"^\s*[%!?/,;]|=\s*[%!]|\?\s*$", re.MULTILINE)
# What the scanner takes for IPython syntax at the start of a logical line: an escape,
# an assignment from one (``files = !ls``, ``t = %time f()``), a help request (``obj?``).
_SCANNED_MAGIC = re.compile(r"\s*(?:[%!]|[\w.]+(?:\s*,\s*[\w.]+)*\s*=\s*[%!]|%{0,2}[\w.]+\?\??\s*$)")
_STRING_START = re.compile(r"(?i)(?:[rbuf]|rb|br|fr|rf)?('''|\"\"\"|'|\")")


def _load_ipython_reader():
    """IPython's ``inputtransformer2`` module, or None where IPython is not installed.

    It is loaded from its file rather than imported: ``import IPython.core...`` first
    runs ``IPython/__init__``, 0.3 s of imports (the terminal, traitlets) that every cold
    worker would pay, while this module needs only the standard library (15 ms).
    """
    try:
        spec = importlib.util.find_spec("IPython")
        if spec is None or spec.origin is None:
            return None
        path = os.path.join(os.path.dirname(spec.origin), "core", "inputtransformer2.py")
        module_spec = importlib.util.spec_from_file_location("_dlgrade_ipython_input", path)
        if module_spec is None or module_spec.loader is None:
            return None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        module.TransformerManager()  # the API used below is there
        return module
    except Exception:  # noqa: BLE001  (any IPython that does not fit: the scanner reads the cell)
        return None


_IPYTHON = _load_ipython_reader()


def neutralise_magics(source: str) -> tuple[str | None, bool]:
    """Replace each magic or shell escape by ``pass`` at its indentation (its continuation
    lines by blank lines), so blocks stay valid and line numbers stay put.

    Returns (source or None when the whole cell is a cell magic that does not run Python,
    whether anything changed). ``%%time`` and ``%%capture`` run their body: it is kept.
    """
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].strip().startswith("%%"):
        if lines[first].strip()[2:].split(" ")[0] not in PYTHON_CELL_MAGICS:
            return None, True
        lines[first] = "# dlgrade: " + lines[first].strip()  # %%time: the body runs, as in Jupyter
        source = "\n".join(lines)
        body, _changed = neutralise_magics(source)
        return body, True
    if not _MAYBE_MAGIC.search(source):
        return "\n".join(lines), False
    replaced = _ipython_replace(lines) if _IPYTHON is not None else None
    if replaced is None:
        replaced = _scanned_replace(lines)
    return "\n".join(replaced), replaced != lines


def reader() -> str:
    """Which reader finds magics here: "IPython" or "scanner" (for notes and tests)."""
    return "IPython" if _IPYTHON is not None else "scanner"


# --------------------------------------------------------------------------- IPython's reader


def _ipython_replace(lines: list[str]) -> list[str] | None:
    """``lines`` with every magic IPython finds made ``pass``; None if IPython's reader fails."""
    try:
        manager = _IPYTHON.TransformerManager()
        current = [line + "\n" for line in lines]
        for _ in range(len(lines) + 1):  # each round removes one magic
            found = _first_special(manager, current)
            if found is None:
                return [line[:-1] if line.endswith("\n") else line for line in current]
            current = found
    except Exception:  # noqa: BLE001  (tokenizer surprises on odd input: use the scanner)
        return None
    return None


def _first_special(manager, lines: list[str]) -> list[str] | None:
    """The lines with the earliest piece of IPython syntax replaced, or None if there is none.

    IPython rewrites it into one line of Python (``get_ipython().run_line_magic(...)``);
    from what it removed we learn the span, and put ``pass`` there instead, keeping the
    line count. Autocall escapes (``/f x`` -> ``f(x)``) are plain Python once rewritten
    and are kept as IPython writes them.
    """
    tokens = _IPYTHON.make_tokens_by_line(lines)
    candidates = [found for cls in manager.token_transformers if (found := cls.find(tokens))]
    for transformer in sorted(candidates, key=_IPYTHON.TokenTransformBase.sortby):
        try:
            rewritten = transformer.transform(lines)
        except SyntaxError:
            continue
        start = _logical_start(tokens, transformer.start_line)
        end = transformer.start_line + len(lines) - len(rewritten)  # the last line it replaced
        new = rewritten[transformer.start_line]
        if "get_ipython()" in new:
            new = _indent(lines[start]) + MAGIC_NOTE + "\n"
        span = end - start + 1
        return lines[:start] + [new] + ["\n"] * (span - 1) + lines[end + 1 :]
    return None


def _logical_start(tokens_by_line: list, row: int) -> int:
    """The first physical line (0-based) of the logical line that holds line ``row``."""
    for logical in tokens_by_line:
        rows = [token.start[0] - 1 for token in logical]
        if rows and min(rows) <= row <= max(token.end[0] - 1 for token in logical):
            return min(rows)
    return row


# --------------------------------------------------------------------------- the scanner


def _scanned_replace(lines: list[str]) -> list[str]:
    """Magic lines (``_SCANNED_MAGIC``) that start a logical line, with their backslash
    continuations, made ``pass``: what IPython does, for where IPython is not installed."""
    out = list(lines)
    state = _ScanState()
    in_magic = False
    for i, line in enumerate(lines):
        if in_magic:  # a magic continued with a trailing backslash
            out[i] = ""
            in_magic = line.endswith("\\")
            continue
        if state.at_logical_start() and _SCANNED_MAGIC.match(line):
            out[i] = _indent(line) + MAGIC_NOTE
            in_magic = line.endswith("\\")
            continue
        state.scan(line)
    return out


class _ScanState:
    """Where a line-by-line reading of Python stands: open brackets, an open triple-quoted
    string, a backslash continuation. Enough to tell a logical line's start, nothing more."""

    def __init__(self) -> None:
        self.depth = 0
        self.string: str | None = None  # the closing quote of an open string
        self.continued = False

    def at_logical_start(self) -> bool:
        return self.depth == 0 and self.string is None and not self.continued

    def scan(self, line: str) -> None:
        self.continued = False
        i = 0
        while i < len(line):
            if self.string is not None:
                i = self._in_string(line, i, self.string)
                continue
            char = line[i]
            if char == "#":
                return
            if char == "\\" and i == len(line) - 1:
                self.continued = True
                return
            match = _STRING_START.match(line, i)
            if match and (match.group(0)[0] in "'\"" or i == 0 or not _is_name_char(line[i - 1])):
                self.string = match.group(1)
                i = match.end()
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            i += 1
        if self.string in ("'", '"') and not self.continued:
            self.string = None  # an unterminated one-line string ends with its line

    def _in_string(self, line: str, i: int, string: str) -> int:
        """One step inside ``string``'s literal (its opening quotes, ``self.string``)."""
        if line[i] == "\\":
            if i == len(line) - 1 and string in ("'", '"'):
                self.continued = True  # a one-line string continued by a backslash
                return i + 1
            return i + 2
        if line.startswith(string, i):
            end = i + len(string)
            self.string = None
            return end
        return i + 1


def _is_name_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]
