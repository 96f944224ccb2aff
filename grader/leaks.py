"""Find course secrets in a folder about to be given to students.

The secrets are the reference solutions (``reference/``), the hidden suites
(``suites/``) and the solution regions of the source notebooks (``source/``), of
every assignment: an a3 bundle must not hold a2's reference either. They are
fingerprinted three ways, so that a copy is caught even when it is not a file copy:

    files    the bytes of every secret file, and the folder names reference/ suites/ source/
    lines    every line of secret code, normalised (comments and whitespace dropped),
             long enough to say something (MIN_CHARS) and not an import or decorator
    bodies   the syntax tree of every function and class body, docstring dropped, so
             that a reformatted or re-commented copy is still the same body

What the handout shows on purpose is not secret: a line or a body that the source
notebook of the released assignment has outside its solution regions (a signature,
a helper given to students, a2's forward pass given in a3). Lines of a hidden suite
that the public checks or the grader also have (``with student.no_grad():``) say
nothing about the hidden tests and are not secret either; a whole hidden test is
still caught by its body.

    secrets = course_secrets(course, "a1", public=[...])
    leaks = scan(bundle_folder, secrets)      # [] or Leak(path, line, kind, origin, text)
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from grader.assign import BEGIN, END, strip_solution
from grader.course import Course

MIN_CHARS = 16  # a normalised line shorter than this ("returnx@w+b") is too common to tell
SECRET_FOLDERS = frozenset({"reference", "suites", "source"})
_BOILERPLATE = re.compile(r"^(?:import |from \S+ import |@|raise NotImplementedError\b)")


@dataclass(frozen=True)
class Leak:
    """One place where a released file holds a secret."""

    path: str  # relative to the scanned folder
    line: int  # 0: the whole file
    kind: str  # "folder", "file", "line" or "body"
    origin: str  # where the secret comes from, e.g. "reference/a1/perceptron.py:12"
    text: str = ""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f": {self.text.strip()[:80]}" if self.text else ""
        return f"{where}: {self.kind} from {self.origin}{text}"


@dataclass
class Secrets:
    """Fingerprints of everything students must not get, each mapped to its origin."""

    files: dict[str, str] = field(default_factory=dict)  # sha256 of the bytes
    lines: dict[str, str] = field(default_factory=dict)  # normalised line
    bodies: dict[str, str] = field(default_factory=dict)  # sha256 of a normalised body


# ---------------------------------------------------------------- normalising


def normalise(line: str) -> str:
    """A line without its comment and without any whitespace: formatting is no disguise."""
    return "".join(_without_comment(line).split())


def _without_comment(line: str) -> str:
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote and line[index - 1] != "\\" else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:index]
    return line


def telling(line: str) -> str | None:
    """The normalised line, if it is specific enough to be a fingerprint."""
    stripped = _without_comment(line).strip()
    key = normalise(stripped)
    return None if len(key) < MIN_CHARS or _BOILERPLATE.match(stripped) else key


class Body(NamedTuple):
    """A function or class body, by the hash of its syntax tree."""

    line: int
    end: int
    name: str
    digest: str


def body_hashes(source: str) -> Iterator[Body]:
    """Every function and class in ``source`` whose body says something."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            if _says_something(body):
                dumped = "\n".join(ast.dump(statement) for statement in body)
                digest = hashlib.sha256(dumped.encode()).hexdigest()
                yield Body(node.lineno, node.end_lineno or node.lineno, node.name, digest)


def _says_something(body: list[ast.stmt]) -> bool:
    """Not empty, not ``pass`` or ``...``, not a stub that only raises."""
    if len(body) != 1:
        return bool(body)
    only = body[0]
    trivial = isinstance(only, (ast.Pass, ast.Raise))
    return not (trivial or isinstance(only, ast.Expr) and isinstance(only.value, ast.Constant))


# ---------------------------------------------------------------- the secrets


def course_secrets(course: Course, assignment: str, public: Iterable[Path] = ()) -> Secrets:
    """Everything of ``course`` that a bundle of ``assignment`` must not hold.

    ``public``: the files the bundle ships on purpose besides the handout (public checks,
    the grader's own modules); hidden-suite lines that they also hold are not secret.
    """
    handout = handout_cells(course, assignment)
    shown = {normalise(line) for cell in handout for line in cell.splitlines()}
    shown_bodies = {body.digest for cell in handout for body in body_hashes(cell)}
    shared = shown | {normalise(line) for path in public for line in _read(path).splitlines()}
    secrets = Secrets()
    for path, code in _secret_sources(course):
        origin = str(path.relative_to(course.root))
        if path.suffix == ".py":
            secrets.files[hashlib.sha256(path.read_bytes()).hexdigest()] = origin
        allowed = shared if path.is_relative_to(course.root / "suites") else shown
        lines = _secret_lines(code)
        for number, line in lines:
            key = telling(line)
            if key and key not in allowed:
                secrets.lines.setdefault(key, f"{origin}:{number}")
        numbers = {number for number, _ in lines}
        for body in body_hashes(code):
            if body.digest not in shown_bodies and numbers & set(range(body.line, body.end + 1)):
                secrets.bodies.setdefault(body.digest, f"{origin}:{body.line}")
    return secrets


def _secret_sources(course: Course) -> Iterator[tuple[Path, str]]:
    """(path, code) of every secret: reference and suite files, source cells with solutions."""
    for folder in ("reference", "suites"):
        for path in sorted((course.root / folder).rglob("*.py")):
            yield path, _read(path)
    for path in sorted((course.root / "source").rglob("*.ipynb")):
        for kind, source in _cells(_read(path)):
            if kind == "code" and any(BEGIN.match(line) for line in source.splitlines()):
                yield path, source


def _secret_lines(code: str) -> list[tuple[int, str]]:
    """The numbered lines of a reference or suite file; of a source cell, its solution
    regions (a body is secret where it holds one of these lines)."""
    lines = list(enumerate(code.splitlines(), start=1))
    if not any(BEGIN.match(line) for _, line in lines):
        return lines
    inside, kept = False, []
    for number, line in lines:
        if BEGIN.match(line) or END.match(line):
            inside = bool(BEGIN.match(line))
        elif inside:
            kept.append((number, line))
    return kept


def handout_cells(course: Course, assignment: str) -> list[str]:
    """The cells of the assignment's source notebooks, text cells included, with every
    solution region stubbed: what the handout shows students on purpose."""
    paths = sorted((course.root / "source" / assignment).glob("*.ipynb"))
    cells = [cell for path in paths for cell in _cells(_read(path))]
    return [strip_solution(source) if kind == "code" else source for kind, source in cells]


# ---------------------------------------------------------------- scanning


def scan(folder: str | Path, secrets: Secrets) -> list[Leak]:
    """Every leak in every file under ``folder``, hidden files included."""
    folder = Path(folder)
    leaks: list[Leak] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        bad = [part for part in relative.parts[:-1] if part in SECRET_FOLDERS]
        leaks += [Leak(str(relative), 0, "folder", f"{bad[0]}/")] if bad else []
        leaks += scan_file(str(relative), path.read_bytes(), secrets)
    return leaks


def scan_file(name: str, data: bytes, secrets: Secrets) -> list[Leak]:
    """The leaks in one file: the whole file, each line (also inside JSON strings, where a
    notebook keeps its code and outputs), and each function or class body."""
    digest = hashlib.sha256(data).hexdigest()
    if digest in secrets.files:
        return [Leak(name, 0, "file", secrets.files[digest])]
    text = data.decode("utf-8", errors="replace")
    found = {}
    for number, line in readable_lines(text):
        key = normalise(line)
        if key in secrets.lines:
            found.setdefault((number, key), Leak(name, number, "line", secrets.lines[key], line))
    leaks = list(found.values())
    for number, digest in _bodies(name, text):
        if digest in secrets.bodies:
            leaks.append(Leak(name, number, "body", secrets.bodies[digest]))
    return leaks


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def readable_lines(text: str) -> Iterator[tuple[int, str]]:
    """(number, line) of the file's lines, and of the text inside each JSON string literal
    on them, escapes undone: ``"    return x @ w + b\\n",`` also reads ``return x @ w + b``."""
    for number, raw in enumerate(text.splitlines(), start=1):
        yield number, raw
        for literal in _JSON_STRING.findall(raw):
            try:
                decoded = json.loads(literal)
            except ValueError:
                continue
            for piece in decoded.splitlines():
                yield number, piece


def _bodies(name: str, text: str) -> Iterator[tuple[int, str]]:
    """(line in the file, hash) of the bodies in a Python file or in a notebook's cells."""
    if name.endswith(".ipynb"):
        for _, source in _cells(text):
            for body in body_hashes(source):
                yield _definition_line(text, body.name), body.digest
    else:
        for body in body_hashes(text):
            yield body.line, body.digest


def _definition_line(text: str, name: str) -> int:
    pattern = re.compile(rf"\b(?:def|class)\s+{re.escape(name)}\b")
    return next((n for n, line in enumerate(text.splitlines(), start=1) if pattern.search(line)), 0)


def _cells(text: str) -> list[tuple[str, str]]:
    """(type, source) of a notebook's cells; none when the text is not a notebook."""
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return []
    cells = cells if isinstance(cells, list) else []
    return [(str(c.get("cell_type")), _joined(c.get("source", ""))) for c in cells if isinstance(c, dict)]


def _joined(value: object) -> str:
    return "".join(map(str, value)) if isinstance(value, list) else str(value)


def _read(path: Path) -> str:
    return Path(path).read_text(encoding="utf-8", errors="replace")
