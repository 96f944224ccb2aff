"""Graded code as a stream of normalised tokens, the part of a copy that a disguise cannot change.

    def sign(z):                          def sign(t):  # my own work
        s = (z > 0).float()                   out = (t > 0).float()
        return s - (z < 0).float()            return out - (t < 0).float()

both become ``def sign ( N ) : ; { N = ( N > L ) . float ( ) ; return N - ( N < L ) . float ( ) ; }``.

What is thrown away or replaced is what a copier edits for free:

- comments, docstrings, bare string statements and layout (blank lines, line breaks in brackets);
- the names the student chose (variables, parameters, helpers, their own attributes such as
  ``self.velocity``) become ``N``; every literal (numbers, strings) becomes ``L``.

What is kept is what independent solutions differ in and a copier cannot rename without
rewriting the code: keywords, operators, statement and block structure, the library they
call (``torch.where`` versus ``torch.clamp``: attribute names the submission never assigns),
builtins (``zip`` versus ``range``), keyword arguments of library calls (``dim=``), the names
the template defines (``weighted_sum``), and imported names resolved through their alias
(``F.relu`` and ``torch.nn.functional.relu`` become the same token).

Nothing is executed: code is parsed (``ast``) and tokenized, on the trusted side. A cell that
does not parse is skipped, as a syntax error costs only its own cell in grading too.
"""

from __future__ import annotations

import ast
import bisect
import builtins
import io
import keyword
import tokenize
from dataclasses import dataclass

from grader.sandbox.child.magics import neutralise_magics
from grader.similarity.canon import ORIGIN, canonical

NAME = "N"
LITERAL = "L"
STATEMENT_END = ";"
BLOCK_START = "{"
BLOCK_END = "}"
BUILTINS = frozenset(dir(builtins))
_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)  # Python 3.12 splits f-strings
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)
_NO_EMPTY_STATEMENT = (BLOCK_START, STATEMENT_END)  # a ";" right after these ends nothing
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError, tokenize.TokenError)


@dataclass(frozen=True)
class Token:
    """One normalised token and where its original text lies in the function's source."""

    text: str
    start: int  # character offsets into Function.source
    end: int


@dataclass(frozen=True)
class Function:
    """A top-level definition (function or class) of a submission, and its tokens."""

    name: str
    source: str
    tokens: tuple[Token, ...]
    helper: bool = False  # a function of the student's own, not named by the template


@dataclass(frozen=True)
class Cell:
    source: str
    tree: ast.Module


@dataclass(frozen=True)
class Naming:
    """What a submission's names mean, gathered from all of its cells.

    ``aliases`` maps an imported name to what it stands for (``F`` -> ``torch.nn.functional``);
    ``bound`` holds every other name the submission binds; ``own_attributes`` the attribute
    names it assigns or defines as methods; ``fixed`` the names the template defines.
    """

    aliases: dict[str, str]
    bound: frozenset[str]
    own_attributes: frozenset[str]
    fixed: frozenset[str]


def functions(cells: list[str], names: frozenset[str], *, with_helpers: bool = False) -> tuple[Function, ...]:
    """The submission's definitions named in ``names``, normalised, sorted by name.

    The submission's own helpers (top-level functions the template does not name) are
    inlined where they are called (``similarity_canon``); ``with_helpers`` also returns them
    as definitions of their own, flagged ``helper``, after the named ones.
    A definition too deeply nested to normalise (a hostile ``not not ... x``) is left out:
    it costs only itself, never the comparison of the class.
    """
    parsed = parse_cells(cells)
    naming = naming_of(parsed, fixed=names)
    everything = definitions(parsed, _top_level_functions(parsed))
    others = {name: _node(source) for name, source in everything.items() if name not in names}
    helpers = {name: node for name, node in others.items() if isinstance(node, ast.FunctionDef)}
    wanted = sorted(definitions(parsed, names).items())
    if with_helpers:
        wanted += sorted((name, everything[name]) for name in helpers)
    found = []
    for name, source in wanted:
        try:
            tokens = canonical_tokens(source, naming, helpers)
        except _PARSE_ERRORS:
            continue
        found.append(Function(name, source, tokens, helper=name not in names))
    return tuple(found)


def _top_level_functions(cells: list[Cell]) -> frozenset[str]:
    return frozenset(node.name for cell in cells for node in cell.tree.body if isinstance(node, _DEFINITIONS))


def _node(source: str) -> ast.stmt | None:
    try:
        return ast.parse(source).body[0]
    except _PARSE_ERRORS:
        return None


def canonical_tokens(source: str, naming: Naming, helpers: dict[str, ast.FunctionDef]) -> tuple[Token, ...]:
    """The tokens of the canonical form (``similarity_canon``), each placed on the original
    statement it came from (a statement's header line for ``for``, ``if``, ``def`` ...).

    Where the canonical form cannot be mapped back, the plain tokens of ``source``.
    """
    node = ast.parse(source).body[0]
    if not isinstance(node, _DEFINITIONS):  # definitions() hands only these; a parse error to the caller
        raise ValueError(f"not a def or a class: {source[:40]!r}")
    tree = canonical(node, aliases=naming.aliases, helpers=helpers)
    text = ast.unparse(tree)
    statements = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    again = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.stmt)]
    if [type(n) for n in statements] != [type(n) for n in again]:
        return normalise(source, naming)
    places = _places(statements, again, source)
    starts = _line_offsets(text)[:-1] or [0]
    tokens = []
    for token in normalise(text, naming):
        line = bisect.bisect_right(starts, token.start)  # 1-based: the line the token starts on
        start, end = places.get(line, (0, len(source)))
        tokens.append(Token(token.text, start, end))
    return tuple(tokens)


def _places(statements: list[ast.stmt], again: list[ast.stmt], source: str) -> dict[int, tuple[int, int]]:
    """Canonical line -> (start, end) in ``source`` of the innermost original statement there."""
    lines = source.splitlines(keepends=True)
    offsets = _line_offsets(source)

    def char(line: int, byte_column: int) -> int:
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        return offsets[min(line - 1, len(offsets) - 1)] + len(
            text.encode("utf-8")[:byte_column].decode("utf-8", "ignore")
        )

    places: dict[int, tuple[int, int, int]] = {}  # line -> (start, end, size of the canonical statement)
    for original, parsed in zip(statements, again, strict=True):
        origin = getattr(original, ORIGIN, None)
        if origin is None:
            continue
        body = getattr(parsed, "body", None)
        header_end = (
            body[0].lineno - 1 if isinstance(body, list) and body and isinstance(body[0], ast.stmt) else None
        )
        if header_end is not None:
            line_end = char(origin[0], len(lines[origin[0] - 1].rstrip("\r\n").encode("utf-8")))
            spans = [
                (line, (char(origin[0], origin[1]), line_end))
                for line in range(parsed.lineno, header_end + 1)
            ]
        else:
            whole = (char(origin[0], origin[1]), char(origin[2], origin[3]))
            spans = [(line, whole) for line in range(parsed.lineno, (parsed.end_lineno or parsed.lineno) + 1)]
        size = (parsed.end_lineno or parsed.lineno) - parsed.lineno
        for line, (start, end) in spans:
            if line not in places or size <= places[line][2]:
                places[line] = (start, end, size)
    return {line: (start, end) for line, (start, end, _) in places.items()}


def parse_cells(cells: list[str]) -> list[Cell]:
    """The cells that parse, magics and shell escapes made ``pass`` (as the worker does);
    cell magics are skipped."""
    parsed = []
    for cell in cells:
        source, _changed = neutralise_magics(cell)
        if source is None:
            continue
        try:
            parsed.append(Cell(source, ast.parse(source)))
        except _PARSE_ERRORS:
            continue
    return parsed


def definitions(cells: list[Cell], names: frozenset[str]) -> dict[str, str]:
    """The source of each top-level def or class named in ``names``; later cells win, as in Jupyter."""
    found: dict[str, str] = {}
    for cell in cells:
        lines = cell.source.splitlines(keepends=True)
        for node in cell.tree.body:
            if isinstance(node, _DEFINITIONS) and node.name in names:
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                found[node.name] = "".join(lines[first - 1 : node.end_lineno])
    return found


def naming_of(cells: list[Cell], fixed: frozenset[str]) -> Naming:
    """Imports, bound names and own attributes of the whole submission."""
    aliases: dict[str, str] = {}
    bound: set[str] = set()
    attributes: set[str] = set()
    for cell in cells:
        for node in ast.walk(cell.tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                aliases.update(_imported(node))
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                bound.add(node.id)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, _DEFINITIONS):
                bound.add(node.name)
            elif isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
                attributes.add(node.attr)
            if isinstance(node, ast.ClassDef):
                attributes.update(_class_members(node))
    return Naming(aliases, frozenset(bound - set(aliases)), frozenset(attributes), fixed)


def _imported(node: ast.Import | ast.ImportFrom) -> dict[str, str]:
    if isinstance(node, ast.Import):  # import torch.nn as nn -> nn; import torch.nn -> torch
        return {
            a.asname or a.name.split(".")[0]: a.name if a.asname else a.name.split(".")[0] for a in node.names
        }
    module = "." * node.level + (node.module or "")
    return {a.asname or a.name: f"{module}.{a.name}" for a in node.names if a.name != "*"}


def _class_members(node: ast.ClassDef) -> set[str]:
    """Methods and class attributes: reached as ``self.name``, so the student chose them."""
    members = {n.name for n in node.body if isinstance(n, _DEFINITIONS)}
    for statement in node.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            members.update(t.id for t in targets if isinstance(t, ast.Name))
    return members


def normalise(source: str, naming: Naming) -> tuple[Token, ...]:
    """The tokens of one definition (see the module docstring for what survives)."""
    tree = ast.parse(source)
    special = _special_names(tree, naming)
    dropped = _docstring_spans(tree) + dead_spans(tree)
    offsets = _line_offsets(source)
    lines = source.splitlines()
    tokens: list[Token] = []
    fstring_depth = 0
    indents: list[bool] = []  # per open block: was its INDENT dropped (so its DEDENT goes too)?
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        start, end = offsets[tok.start[0] - 1] + tok.start[1], offsets[tok.end[0] - 1] + tok.end[1]
        if tok.type == _FSTRING_START:
            fstring_depth += 1
            if fstring_depth == 1:
                tokens.append(Token(LITERAL, start, end))
            continue
        if fstring_depth:
            fstring_depth -= tok.type == _FSTRING_END
            tokens[-1] = Token(LITERAL, tokens[-1].start, end)
            continue
        gone = _inside(_byte_position(tok.start, lines), dropped)
        if tok.type == tokenize.INDENT:
            indents.append(gone)
        elif tok.type == tokenize.DEDENT:
            gone = indents.pop()
        if gone:
            continue
        text = _text(tok, special, naming, lines)
        if text is None or (text == STATEMENT_END and (not tokens or tokens[-1].text in _NO_EMPTY_STATEMENT)):
            continue
        tokens.append(Token(text, start, end))
    return tuple(without_grouping(tokens))


def without_grouping(tokens: list[Token]) -> list[Token]:
    """Drop parentheses that only group or make a tuple: ``return (w, b)`` is ``return w, b``.

    A ``(`` right after a name, a closing bracket or a literal opens a call (or a def's
    parameters) and stays; any other ``(`` and its ``)`` go. Formatters and copiers add and
    remove grouping parentheses freely; precedence is a small loss next to that.
    """
    kept: list[Token] = []
    opened: list[bool] = []
    for token in tokens:
        if token.text == "(":
            call = bool(kept) and _ends_operand(kept[-1].text)
            opened.append(call)
            if not call:
                continue
        elif token.text == ")" and opened and not opened.pop():
            continue
        kept.append(token)
    return kept


def _ends_operand(text: str) -> bool:
    return text in (")", "]", LITERAL) or (text[:1].isidentifier() and not keyword.iskeyword(text))


def _text(tok: tokenize.TokenInfo, special: dict, naming: Naming, lines: list[str]) -> str | None:
    """The normalised text of one token; None drops it."""
    if tok.type in _SKIPPED:
        return None
    if tok.type == tokenize.NEWLINE:
        return STATEMENT_END
    if tok.type == tokenize.INDENT:
        return BLOCK_START
    if tok.type == tokenize.DEDENT:
        return BLOCK_END
    if tok.type in (tokenize.STRING, tokenize.NUMBER):
        return LITERAL
    if tok.type == tokenize.NAME:
        return _name(tok, special, naming, lines)
    return tok.string


def _name(tok: tokenize.TokenInfo, special: dict, naming: Naming, lines: list[str]) -> str:
    position = _byte_position(tok.start, lines)
    if position in special:
        return special[position]
    name = tok.string
    if keyword.iskeyword(name) or name in naming.fixed:
        return name
    if name in naming.aliases and name not in naming.bound:
        return naming.aliases[name]
    if name in BUILTINS and name not in naming.bound:
        return name
    return NAME


def _special_names(tree: ast.AST, naming: Naming) -> dict[tuple[int, int], str]:
    """Attribute names and keyword arguments, by (line, byte column) of their name token."""
    special: dict[tuple[int, int], str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.end_lineno is None or node.end_col_offset is None:  # a parsed tree has both
                continue
            where = (node.end_lineno, node.end_col_offset - len(node.attr.encode("utf-8")))
            special[where] = NAME if node.attr in naming.own_attributes else node.attr
        elif isinstance(node, ast.Call):
            library = _is_library(node.func, naming)
            for kw in node.keywords:
                if kw.arg is not None:
                    special[(kw.lineno, kw.col_offset)] = kw.arg if library else NAME
    return special


def _is_library(func: ast.expr, naming: Naming) -> bool:
    """Whether a call goes to code the student did not write (its keyword names are the library's)."""
    if isinstance(func, ast.Attribute):
        return func.attr not in naming.own_attributes
    if isinstance(func, ast.Name):
        return func.id not in naming.bound or func.id in naming.fixed
    return False


Span = tuple[tuple[int, int], tuple[int, int]]  # (line, byte column) from, to


def _span(node: ast.stmt) -> Span:
    return (node.lineno, node.col_offset), (node.end_lineno or node.lineno, node.end_col_offset or 0)


def _docstring_spans(tree: ast.AST) -> list[Span]:
    """Where the string statements (docstrings, strings used as comments) lie."""
    return [
        _span(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]


def dead_spans(tree: ast.AST) -> list[Span]:
    """Statements that provably do nothing, which a copier may add to break up the copy.

    ``pass``; ``if``/``while`` on a false constant without ``else``; ``for`` over ``range(0)``
    or an empty literal; ``assert`` of a true constant; a bare name or constant; a store to
    a name the definition never reads; whatever follows ``return``, ``raise``, ``break`` or
    ``continue`` in its block. Dead code that looks alive (``print("checking")``, a flag
    that is read but always false) stays: bench/README.md measures what that costs.
    """
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    declared = {name for n in ast.walk(tree) if isinstance(n, ast.Global | ast.Nonlocal) for name in n.names}
    spans = []
    for node in ast.walk(tree):
        for block in _blocks(node):
            spans += [_span(s) for s in _unreachable(block)]
            spans += [_span(s) for s in block if _is_dead(s, read | declared)]
    return spans


def _blocks(node: ast.AST) -> list[list[ast.stmt]]:
    blocks = [getattr(node, name, None) for name in ("body", "orelse", "finalbody")]
    return [b for b in blocks if isinstance(b, list) and b and isinstance(b[0], ast.stmt)]


def _unreachable(block: list[ast.stmt]) -> list[ast.stmt]:
    for index, statement in enumerate(block):
        if isinstance(statement, ast.Return | ast.Raise | ast.Break | ast.Continue):
            return block[index + 1 :]
    return []


def _is_dead(statement: ast.stmt, read: set[str]) -> bool:
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.If | ast.While):
        return not statement.orelse and _constant(statement.test) is False
    if isinstance(statement, ast.For):
        return _empty_loop(statement.iter)
    if isinstance(statement, ast.Assert):
        return _constant(statement.test) is True
    if isinstance(statement, ast.Expr):
        return isinstance(statement.value, ast.Constant | ast.Name)
    targets = _store_targets(statement)
    return bool(targets) and all(isinstance(t, ast.Name) and t.id not in read for t in targets)


def _constant(test: ast.expr) -> bool | None:
    """The truth of a constant test (``False``, ``0``, ``not True``), None when it is not one."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _constant(test.operand)
        return None if inner is None else not inner
    return None


def _empty_loop(iterable: ast.expr) -> bool:
    if isinstance(iterable, ast.List | ast.Tuple | ast.Set):
        return not iterable.elts
    return (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Name)
        and iterable.func.id == "range"
        and len(iterable.args) == 1
        and _constant(iterable.args[0]) is False
    )


def _store_targets(statement: ast.stmt) -> list[ast.expr]:
    if isinstance(statement, ast.Assign):
        return [t for target in statement.targets for t in _flatten(target)]
    if isinstance(statement, ast.AnnAssign | ast.AugAssign):
        return [statement.target]
    return []


def _flatten(target: ast.expr) -> list[ast.expr]:
    if isinstance(target, ast.Tuple | ast.List):
        return [t for element in target.elts for t in _flatten(element)]
    return [target]


def _inside(position: tuple[int, int], spans: list[Span]) -> bool:
    """Within a span; its end counts, since the statement's NEWLINE token starts there."""
    return any(first <= position <= last for first, last in spans)


def _byte_position(start: tuple[int, int], lines: list[str]) -> tuple[int, int]:
    """A tokenize position (line, character) as ast counts it (line, UTF-8 byte)."""
    row, col = start
    line = lines[row - 1] if row - 1 < len(lines) else ""
    return row, len(line[:col].encode("utf-8"))


def _line_offsets(source: str) -> list[int]:
    offsets, total = [], 0
    for line in source.splitlines(keepends=True):
        offsets.append(total)
        total += len(line)
    return offsets + [total]
