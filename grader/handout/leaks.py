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
    tokens   the hidden suites' test names and constants (``ACCURACY_THRESHOLD``, its
             value ``0.93``), as words: a README that names them leaks them

Solution regions are found by any line that looks like a marker (``## BEGIN SOLUTION``,
``### begin solution (relu)``, nbgrader's ``BEGIN HIDDEN TESTS``), not only by the strict
markers ``dlgrade assign`` accepts, in every cell type; and a released line that looks
like a marker is itself a leak. What is scanned is every file, and in it every line,
the text inside each JSON string (a notebook's cells, markdown too, and outputs), and
whatever decodes from base64 (attachments, image outputs).

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
import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from grader.course.layout import Course
from grader.handout.assign import ANSWER, MARKER_LIKE, STUB

MIN_CHARS = 16  # a normalised line shorter than this ("returnx@w+b") is too common to tell
MIN_BASE64 = 24  # shorter runs of base64 letters are words, not encoded files
MIN_VALUE_CHARS = 4  # a constant's value shorter than this (0.5, 10) is too common to tell
_BASE64 = re.compile(rf"[A-Za-z0-9+/]{{{MIN_BASE64},}}={{0,2}}")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SECRET_FOLDERS = frozenset({"reference", "suites", "source"})
_BOILERPLATE = re.compile(r"^(?:import |from \S+ import |@|raise NotImplementedError\b)")


@dataclass(frozen=True)
class Leak:
    """One place where a released file holds a secret."""

    path: str  # relative to the scanned folder
    line: int  # 0: the whole file
    kind: str  # "folder", "file", "line", "body", "token" or "marker"
    origin: str  # where the secret comes from, e.g. "reference/a1/perceptron.py:12"
    text: str = ""
    encoded: bool = False  # found in base64 that the file holds

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f": {self.text.strip()[:80]}" if self.text else ""
        base64_note = " (in base64)" if self.encoded else ""
        return f"{where}{base64_note}: {self.kind} from {self.origin}{text}"


@dataclass
class Secrets:
    """Fingerprints of everything students must not get, each mapped to its origin."""

    files: dict[str, str] = field(default_factory=dict)  # sha256 of the bytes
    lines: dict[str, str] = field(default_factory=dict)  # normalised line
    bodies: dict[str, str] = field(default_factory=dict)  # sha256 of a normalised body
    tokens: dict[str, str] = field(default_factory=dict)  # a hidden test's name, a constant or its value
    shown: set[str] = field(default_factory=set)  # normalised lines shipped on purpose


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
    public_text = [_read(path) for path in public]
    shared = shown | {normalise(line) for text in public_text for line in text.splitlines()}
    secrets = Secrets(shown=shared)
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
    said = "\n".join([*handout, *public_text])
    for path in sorted((course.root / "suites").rglob("*.py")):
        origin = str(path.relative_to(course.root))
        for token, at in suite_tokens(_read(path)):
            if not _says(said, token):
                secrets.tokens.setdefault(token, f"{origin}:{at}")
    return secrets


def suite_tokens(code: str) -> Iterator[tuple[str, int]]:
    """(token, line) of what a hidden suite's file names that a student must not learn:
    its test functions' names, its module-level constants' names (``UPPER_CASE``) and
    their values where they are specific (a number like ``0.93``, a long string)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            yield node.name, node.lineno
    for node in tree.body:
        assigned: ast.expr | None
        if isinstance(node, ast.Assign):
            targets, assigned = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, assigned = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and _constant_name(target.id):
                yield target.id, node.lineno
                value = _specific_value(code, assigned)
                if value:
                    yield value, node.lineno


def _constant_name(name: str) -> bool:
    """UPPER_CASE, and not a plain word a README may shout (ALPHA, STEPS)."""
    return name.isupper() and ("_" in name or len(name) >= 8)


def _specific_value(code: str, node: ast.expr | None) -> str | None:
    """A constant's value as written, where it is specific enough to give the test away."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) >= 12:
        return node.value
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):  # a number
        text = ast.get_source_segment(code, node) or ""
        return text if len(text) >= MIN_VALUE_CHARS else None
    return None


def _says(text: str, token: str) -> bool:
    """Whether ``text`` holds ``token`` as a whole word or number."""
    return re.search(rf"(?<![\w.]){re.escape(token)}(?![\w])", text) is not None


def _secret_sources(course: Course) -> Iterator[tuple[Path, str]]:
    """(path, code) of every secret: reference and suite files, source cells with solutions."""
    for folder in ("reference", "suites"):
        for path in sorted((course.root / folder).rglob("*.py")):
            yield path, _read(path)
    for path in sorted((course.root / "source").rglob("*.ipynb")):
        for _, source in _cells(_read(path)):
            if MARKER_LIKE.search(source):
                yield path, source


def _secret_lines(code: str) -> list[tuple[int, str]]:
    """The numbered lines of a reference or suite file; of a source cell, its solution and
    hidden-tests regions (a body is secret where it holds one of these lines)."""
    lines = list(enumerate(code.splitlines(), start=1))
    if not any(MARKER_LIKE.search(line) for _, line in lines):
        return lines
    return [(number, line) for number, line, inside in _regions(lines) if inside is True]


def _regions(lines: list[tuple[int, str]]) -> Iterator[tuple[int, str, bool | None]]:
    """(number, line, inside a region) of every line, where any line that looks like a
    marker counts as one (``dlgrade assign`` refuses those; a source notebook that holds
    them still has secrets): a BEGIN opens, an END closes; marker lines are left out,
    except each BEGIN, given as (number, its indentation, False) with ``inside`` None."""
    inside = False
    for number, line in lines:
        marker = MARKER_LIKE.search(line)
        if marker is None:
            yield number, line, inside
        else:
            inside = marker.group().upper().startswith("BEGIN")
            if inside:
                yield number, line[: len(line) - len(line.lstrip())], None


def handout_cells(course: Course, assignment: str) -> list[str]:
    """The cells of the assignment's source notebooks, text cells included, with every
    region replaced as ``dlgrade assign`` does: what the handout shows students on purpose."""
    paths = sorted((course.root / "source" / assignment).glob("*.ipynb"))
    cells = [cell for path in paths for cell in _cells(_read(path))]
    return [_outside_regions(source, STUB if kind == "code" else ANSWER) for kind, source in cells]


def _outside_regions(source: str, replacement: str) -> str:
    lines = list(enumerate(source.splitlines(), start=1))
    if not MARKER_LIKE.search(source):
        return source
    kept = [
        text + replacement if inside is None else text for _, text, inside in _regions(lines) if not inside
    ]
    return "\n".join(kept)


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


def scan_file(name: str, data: bytes, secrets: Secrets, encoded: bool = False) -> list[Leak]:
    """The leaks in one file: the whole file, each line (also inside JSON strings, where a
    notebook keeps its cells and outputs), each function or class body, each hidden name
    or constant, each marker-like line, and the same in whatever base64 in it decodes to."""
    digest = hashlib.sha256(data).hexdigest()
    if digest in secrets.files:
        return [Leak(name, 0, "file", secrets.files[digest], encoded=encoded)]
    text = data.decode("utf-8", errors="replace")
    found: dict[tuple, Leak] = {}
    for number, line in readable_lines(text):
        for leak in _line_leaks(name, number, line, secrets, encoded):
            found.setdefault((number, leak.kind, leak.origin), leak)
    leaks = list(found.values())
    for number, digest in _bodies("decoded.py" if encoded else name, text):
        if digest in secrets.bodies:
            leaks.append(Leak(name, number, "body", secrets.bodies[digest], encoded=encoded))
    if not encoded:  # one level: base64 inside base64 is not how attachments are kept
        for number, decoded in base64_blobs(text):
            leaks += [replace(leak, line=number) for leak in scan_file(name, decoded, secrets, encoded=True)]
    return list(dict.fromkeys(leaks))


def _line_leaks(name: str, number: int, line: str, secrets: Secrets, encoded: bool) -> Iterator[Leak]:
    key = normalise(line)
    if key in secrets.lines:
        yield Leak(name, number, "line", secrets.lines[key], line, encoded)
    if MARKER_LIKE.search(line) and key not in secrets.shown:
        yield Leak(name, number, "marker", "a solution or hidden-tests marker", line, encoded)
    for token in _tokens_in(line, secrets.tokens):
        yield Leak(name, number, "token", secrets.tokens[token], line, encoded)


def _tokens_in(line: str, tokens: dict[str, str]) -> list[str]:
    """The secret tokens on ``line``: names as words, values as whole numbers or strings."""
    words = set(_WORD.findall(line))
    return [
        token
        for token in tokens
        if (token in words if _WORD.fullmatch(token) else token in line and _says(line, token))
    ]


def base64_blobs(text: str) -> Iterator[tuple[int, bytes]]:
    """(line, bytes) of every run of base64 in ``text`` long enough to be a file: in a JSON
    file (a notebook), in every string and list of strings, whose line breaks are dropped
    (attachments and image outputs may be split over lines); elsewhere, on each line."""
    for number, candidate in _base64_candidates(text):
        for run in _BASE64.findall(candidate):
            try:
                yield number, base64.b64decode(run + "=" * (-len(run) % 4), validate=True)
            except (binascii.Error, ValueError):
                continue


def _base64_candidates(text: str) -> Iterator[tuple[int, str]]:
    try:
        data = json.loads(text)
    except ValueError:
        yield from enumerate(text.splitlines(), start=1)
        return
    for value in _json_strings(data):
        joined = "".join(value.split())
        if len(joined) >= MIN_BASE64:
            yield _line_of(text, value), joined


def _json_strings(data: object) -> Iterator[str]:
    """Every string in a JSON document, and every list of strings joined (nbformat keeps
    multi-line text, base64 included, as a list of lines)."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _json_strings(value)
    elif isinstance(data, list):
        if data and all(isinstance(item, str) for item in data):
            yield "".join(data)
        else:
            for item in data:
                yield from _json_strings(item)


def _line_of(text: str, value: str) -> int:
    """The line of ``text`` where the JSON string ``value`` starts, or 0."""
    start = json.dumps(value[:40])[1:-1].split("\\n")[0][:30]
    index = text.find(start) if start else -1
    return text.count("\n", 0, index) + 1 if index >= 0 else 0


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
