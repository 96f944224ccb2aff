"""Loading a submission's cells into the worker's namespace: what runs, and what is said.

Runs in the worker (imported as ``loading`` from the sandbox's child folder). In
"definitions" mode a top-level statement runs when

  * its shape says it defines without computing (``is_definition``: imports, ``def``,
    ``class``, ``LR = 0.1``, ``if``/``try`` blocks of those), or
  * it binds a name that graded code needs (``needs.py``), e.g. ``ACTS = dict(relu=relu)``
    or ``criterion = nn.CrossEntropyLoss()``: then it runs even though it calls something,
    within a time budget shared by all such statements (``Plan.seconds``).

Everything else (``model = train(...)``, ``plt.plot(...)``, a training loop) is skipped.
What a skipped, stopped or failing statement would have bound is remembered
(``Loaded.unbound``), so that a later ``NameError`` says which statement and why.

Before them, the handout's given code (``Plan.given``: the source notebook without its
solution regions) binds what graded code needs and the notebook never binds, e.g. the
forward pass an a3 notebook was given and did not copy.
"""

from __future__ import annotations

import ast
import builtins
import linecache
import re
import signal
import time
from dataclasses import dataclass, field

from magics import neutralise_magics
from needs import Statement, needed
from newer_syntax import syntax_message

# ``def name`` / ``class name`` at the start of a line: what a cell that does not parse meant to define
_DEFINED_AT_TOP = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)
STATEMENT_PREVIEW = 60  # characters of a statement quoted in a message
SKIPPED = (
    "was not run: grading runs definitions and what graded functions use by name, not other top-level code"
)


@dataclass(frozen=True)
class Plan:
    """What the trusted side asks for: the mode, the graded names and the given code."""

    mode: str = "definitions"  # or "all" (--run-all)
    graded: tuple[str, ...] | None = None  # None: every def and class of the notebook is a root
    given: tuple[str, ...] = ()  # the handout's cells, solution statements left out
    seconds: float = 10.0  # for all the statements run only because graded code needs them


@dataclass
class Loaded:
    notes: list[str] = field(default_factory=list)
    unbound: dict[str, str] = field(default_factory=dict)  # name -> why its statement did not bind it


class _OverBudget(BaseException):
    """Raised by the timer in a statement run past its budget (a BaseException, so that a
    student's ``except Exception`` does not swallow it)."""


def load(cells: list[str], plan: Plan, namespace: dict) -> Loaded:
    """Run the cells' statements as ``plan`` says; a failing statement costs only itself."""
    loaded = Loaded()
    statements = _parse(cells, "cell", loaded)
    roots = set(plan.graded) if plan.graded is not None else {n for s in statements for n in s.defines}
    if plan.mode == "all":
        chosen = set(range(len(statements)))
    else:
        chosen = {i for i, s in enumerate(statements) if is_definition(s.node)} | needed(statements, roots)
    runner = _Runner(namespace, loaded, plan.seconds, untimed=plan.mode == "all")
    if plan.given:
        wanted = roots | {name for i in chosen for name in statements[i].uses}
        _give(plan.given, wanted - {name for s in statements for name in s.binds}, runner)
    _run(statements, chosen, runner)
    return loaded


def _run(statements: list[Statement], chosen: set[int], runner: _Runner) -> None:
    """The chosen statements in order; those that compute something within the time budget."""
    skipped = computed = 0
    for index, statement in enumerate(statements):
        if index not in chosen:
            skipped += 1
            runner.remember(statement, SKIPPED)
        elif is_definition(statement.node) or runner.untimed:
            runner.run(statement)
        else:
            computed += 1
            runner.run(statement, timed=True)
    if computed:
        runner.loaded.notes.append(
            f"{computed} top-level statement(s) that compute something were run because graded "
            "functions use what they bind"
        )
    if skipped:
        runner.loaded.notes.append(
            f"{skipped} top-level statement(s) that are not definitions were not run (grading runs "
            "imports, functions, classes, constants and what graded functions use)"
        )


def _give(given: tuple[str, ...], missing: set[str], runner: _Runner) -> None:
    """The handout's given code for names graded code needs and the notebook never binds.

    It runs first, as the handout's cells come first, so the notebook's own code still
    wins wherever it binds the same names. Only definitions of the handout, and what
    they need, are candidates: never its experiments.
    """
    missing -= set(dir(builtins))
    if not missing:
        return  # the usual case: nothing to read the handout for
    handout = _parse(list(given), "handout cell", Loaded())
    for_definitions = needed(handout, {name for s in handout for name in s.defines})
    eligible = [s for i, s in enumerate(handout) if is_definition(s.node) or i in for_definitions]
    chosen = needed(eligible, missing)
    if not chosen:
        return
    for index, statement in enumerate(eligible):
        if index in chosen:
            runner.run(statement, timed=not is_definition(statement.node))
    used = sorted(name for name in missing if name in runner.namespace)
    if used:
        runner.loaded.notes.append(
            f"not in the notebook, so the handout's given code was used for: {', '.join(used)} "
            "(you were not asked to write these)"
        )


# --------------------------------------------------------------------------- parsing


def _parse(cells: list[str], label: str, loaded: Loaded) -> list[Statement]:
    """Every top-level statement of the cells that parse; a cell that does not costs only itself."""
    statements = []
    for index, raw in enumerate(cells, start=1):
        source, changed = neutralise_magics(raw)
        if source is None:
            loaded.notes.append(f"{label} {index}: cell magic (%%...), not run")
            continue
        if changed:
            loaded.notes.append(f"{label} {index}: IPython magics or shell escapes removed")
        filename = f"<{label} {index}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            tree = ast.parse(source, filename)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            why = syntax_message(exc, source)
            loaded.notes.append(f"{label} {index}: {why}; nothing in this cell was defined")
            for name in _DEFINED_AT_TOP.findall(source):
                loaded.unbound[name] = f"{label} {index} defines it, but that cell does not parse: {why}"
            continue
        statements += [Statement.of(index, node, filename) for node in tree.body]
    return statements


def is_definition(node: ast.stmt) -> bool:
    """Statements that define names without running experiments: kept in 'definitions' mode."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return not _imports_dlgrade(node)  # the notebook's self-check cell: the grader needs none of it
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return True
    if isinstance(node, ast.ClassDef):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        return node.value is not None and not _calls_anything(node.value)
    if isinstance(node, ast.If):
        return not _calls_anything(node.test) and all(map(is_definition, node.body + node.orelse))
    if isinstance(node, ast.Try):
        handlers = [stmt for handler in node.handlers for stmt in handler.body]
        return all(map(is_definition, node.body + handlers + node.orelse + node.finalbody))
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True  # a docstring or a bare constant: runs nothing
    return isinstance(node, ast.Pass)


def _imports_dlgrade(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "dlgrade"
    return any(alias.name.split(".")[0] == "dlgrade" for alias in node.names)


def _calls_anything(node: ast.AST) -> bool:
    return any(isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)) for n in ast.walk(node))


# --------------------------------------------------------------------------- running


class _Runner:
    """Runs statements one at a time in the namespace and remembers what went wrong."""

    def __init__(self, namespace: dict, loaded: Loaded, seconds: float, untimed: bool = False):
        self.namespace = namespace
        self.loaded = loaded
        self.budget_end = time.monotonic() + seconds
        self.seconds = seconds
        self.untimed = untimed  # --run-all: every statement runs as in a notebook

    def run(self, statement: Statement, timed: bool = False) -> None:
        where = _where(statement)
        try:
            if timed:
                self._run_timed(statement)
            else:
                self._exec(statement)
        except _OverBudget:
            why = (
                f"was stopped: top-level code that graded functions need gets {self.seconds:g} s in all "
                "(a training run belongs in a cell graded functions do not depend on)"
            )
            self.loaded.notes.append(f"{where}: {why}")
            self.remember(statement, why)
        except BaseException as exc:  # noqa: BLE001  (SystemExit from exit() included)
            self.loaded.notes.append(f"{where}: {self.explain(exc)}")
            self.remember(statement, f"raised {describe(exc)[:200]}")

    def remember(self, statement: Statement, why: str) -> None:
        """Keep, for each name the statement would have bound, where it is and why it did not
        (the last such statement wins, as the last binding would have)."""
        where = f"{_where(statement)} (`{_preview(statement)}`)"
        for name in statement.binds | statement.updates:
            self.loaded.unbound[name] = f"{where} sets it, but {why}"

    def explain(self, exc: BaseException) -> str:
        """``describe(exc)``, and for a NameError, where its name would have come from."""
        return explain(exc, self.loaded.unbound)

    def _exec(self, statement: Statement) -> None:
        code = compile(ast.Module(body=[statement.node], type_ignores=[]), statement.filename, "exec")
        exec(code, self.namespace)

    def _run_timed(self, statement: Statement) -> None:
        left = self.budget_end - time.monotonic()
        if left <= 0:
            raise _OverBudget
        previous = signal.signal(signal.SIGALRM, _over_budget)
        signal.setitimer(signal.ITIMER_REAL, left)
        try:
            self._exec(statement)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _over_budget(signum, frame) -> None:
    raise _OverBudget


def _where(statement: Statement) -> str:
    """``cell 3, line 2`` (or ``handout cell 3, line 2``), as notes name places."""
    return f"{statement.filename.strip('<>')}, line {statement.node.lineno}"


def _preview(statement: Statement) -> str:
    lines = linecache.getlines(statement.filename)
    first = lines[statement.node.lineno - 1].strip() if len(lines) >= statement.node.lineno else ""
    more = statement.node.end_lineno != statement.node.lineno or len(first) > STATEMENT_PREVIEW
    return first[:STATEMENT_PREVIEW] + (" ..." if more else "")


def explain(exc: BaseException, unbound: dict[str, str]) -> str:
    """What went wrong, in words; a NameError for a name a statement was meant to bind says
    which statement that was and why it did not (the student sees this in the test's message)."""
    text = describe(exc)
    name = getattr(exc, "name", None) if isinstance(exc, NameError) else None
    if type(name) is str and name in unbound:
        text = f"{text}. `{name}`: {unbound[name]}"
    return text


def describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001  (a hostile __str__)
        text = "<unprintable>"
    return f"{type(exc).__name__}: {text}"[:500]
