"""A canonical form of a definition, so that rewriting a copy statement by statement does not hide it.

    def scores(x, w):                       def scores(inputs, weights):
        out = []                                return [relu(torch.mm(r, weights)) for r in inputs]
        for row in x:
            out.append(relu(row @ w))       def relu(t):
        return out                              return t.clamp(min=0)

    def relu(v):
        return v.clamp(min=0)

both become ``return [N.clamp(min=0) ... for N in N]`` with ``@``: the rewrites below are
undone on the AST before the code is tokenized (``similarity_tokens``), each into the form
a copier is least likely to have started from:

- ``a = a + b`` becomes ``a += b`` (any operator, any target); ``x = E`` then ``return x``
  becomes ``return E``;
- ``if c: x = A`` / ``else: x = B`` becomes ``x = A if c else B``, and so do
  ``if c: return A else: return B`` and ``if c: return A`` followed by ``return B``;
- ``r = []`` followed by a loop that only appends to ``r`` (nested loops, one ``if``, or
  ``r += [e]``) becomes a list comprehension; ``s = 0`` followed by a loop that only adds
  to ``s`` becomes ``sum(...)``; ``sum([...])`` becomes ``sum(...)``;
- ``print(...)`` calls and ``assert`` statements are left out (with an ``if`` that only holds
  them), so alive-looking padding does not break up a copy;
- ``torch.mm(a, b)``, ``torch.matmul(a, b)``, ``a.mm(b)`` and ``a.matmul(b)`` become ``a @ b``;
- a helper the submission defines (not a name of the template) is inlined where it is
  called: a one-expression helper anywhere, a longer one where its call is a whole
  statement (``x = helper(...)``, ``return helper(...)``).

Every statement keeps the place in the original source it came from (``ORIGIN``), so
that the page can highlight the student's own text. Nothing is executed.
"""

from __future__ import annotations

import ast
import copy

ORIGIN = "_dlgrade_origin"  # attribute on statements: (line, column, end line, end column) in the source
_MATMUL_FUNCTIONS = {"torch.mm", "torch.matmul"}
_MATMUL_METHODS = {"mm", "matmul"}
_INLINE_DEPTH = 2
_INLINE_BUDGET = 12  # calls inlined per definition at most


def canonical(
    function: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
    *,
    aliases: dict[str, str],
    helpers: dict[str, ast.FunctionDef],
) -> ast.AST:
    """``function`` rewritten in place (pass a fresh parse), its statements carrying their ORIGIN."""
    tree = function
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            setattr(node, ORIGIN, (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset))
    own = {name: h for name, h in helpers.items() if name != getattr(function, "name", None)}
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    inliner = _Inliner(own)  # one budget for the whole definition
    for _ in range(_INLINE_DEPTH if called & set(own) else 0):
        tree = inliner.visit(tree)
    tree = _Expressions(aliases).visit(tree)
    _rewrite_blocks(tree)
    return ast.fix_missing_locations(tree)


# ----------------------------------------------------------------------------- expressions


def dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """``T.mm`` -> ``torch.mm`` when ``T`` is torch; None for anything but names and attributes."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value, aliases)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


class _Expressions(ast.NodeTransformer):
    """Matrix products as ``@`` and ``sum([...])`` as ``sum(...)``."""

    def __init__(self, aliases: dict[str, str]):
        self.aliases = aliases

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if node.keywords:
            return node
        name = dotted(node.func, self.aliases)
        if name in _MATMUL_FUNCTIONS and len(node.args) == 2:
            return ast.copy_location(ast.BinOp(node.args[0], ast.MatMult(), node.args[1]), node)
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in _MATMUL_METHODS
            and len(node.args) == 1
            and not (name or "").startswith("torch.")
        ):
            return ast.copy_location(ast.BinOp(node.func.value, ast.MatMult(), node.args[0]), node)
        if name == "sum" and len(node.args) == 1 and isinstance(node.args[0], ast.ListComp):
            inner = node.args[0]
            node.args = [ast.copy_location(ast.GeneratorExp(inner.elt, inner.generators), inner)]
        return node


# ----------------------------------------------------------------------------- helpers


def _parameters(helper: ast.FunctionDef) -> list[str] | None:
    arguments = helper.args
    if arguments.vararg or arguments.kwarg or arguments.kwonlyargs or arguments.posonlyargs:
        return None
    return [a.arg for a in arguments.args]


def _body(helper: ast.FunctionDef) -> list[ast.stmt]:
    body = helper.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body


class _Substitute(ast.NodeTransformer):
    def __init__(self, values: dict[str, ast.expr]):
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if isinstance(node.ctx, ast.Load) and node.id in self.values:
            return copy.deepcopy(self.values[node.id])
        return node


class _Inliner(ast.NodeTransformer):
    """Replace calls of the submission's own helpers by the helper's code."""

    def __init__(self, helpers: dict[str, ast.FunctionDef]):
        self.helpers = helpers
        self.budget = _INLINE_BUDGET  # a recursive helper would otherwise be inlined forever

    def _bind(self, call: ast.expr) -> tuple[ast.FunctionDef, dict[str, ast.expr]] | None:
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and not call.keywords):
            return None
        helper = self.helpers.get(call.func.id)
        if helper is None or self.budget <= 0:
            return None
        self.budget -= 1
        names = _parameters(helper)
        if (
            names is None
            or len(names) != len(call.args)
            or any(isinstance(a, ast.Starred) for a in call.args)
        ):
            return None
        return helper, dict(zip(names, call.args, strict=True))

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        bound = self._bind(node)
        if bound is None:
            return node
        helper, values = bound
        body = _body(helper)
        if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
            return _Substitute(values).visit(copy.deepcopy(body[0].value))
        return node

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(node, field, [s for statement in block for s in self._statement(statement)])
        return super().generic_visit(node)

    def _statement(self, statement: ast.stmt) -> list[ast.stmt]:
        """A whole-statement call of a longer helper: its statements, its result where the call was."""
        value = getattr(statement, "value", None)
        if not isinstance(statement, ast.Assign | ast.Return | ast.Expr) or value is None:
            return [statement]
        bound = self._bind(value)
        if bound is None:
            return [statement]
        helper, values = bound
        body = [_Substitute(values).visit(copy.deepcopy(s)) for s in _body(helper)]
        returns = [n for s in body for n in ast.walk(s) if isinstance(n, ast.Return)]
        if (
            len(body) < 2
            or not isinstance(body[-1], ast.Return)
            or len(returns) != 1
            or body[-1].value is None
        ):
            return [statement]
        origin = getattr(statement, ORIGIN, None)
        for s in body:
            for node in ast.walk(s):
                if isinstance(node, ast.stmt):
                    setattr(node, ORIGIN, origin)
        result = body[-1].value
        last: ast.stmt
        if isinstance(statement, ast.Expr):
            last = ast.Expr(result)
        elif isinstance(statement, ast.Return):
            last = ast.Return(result)
        else:
            last = ast.Assign(statement.targets, result)
        setattr(last, ORIGIN, origin)
        return body[:-1] + [ast.copy_location(last, statement)]


# ----------------------------------------------------------------------------- statements


def _rewrite_blocks(tree: ast.AST) -> None:
    """Rewrite every block of statements, innermost first."""
    for node in list(ast.walk(tree)):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(node, field, rewrite_block(block))


def _noise(statement: ast.stmt) -> bool:
    """``print(...)`` and ``assert``: they check or show, never compute what is graded. An ``if``
    left with nothing else (``if verbose: print(...)``) goes with them."""
    if isinstance(statement, ast.Assert):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        return isinstance(func, ast.Name) and func.id == "print"
    if isinstance(statement, ast.If) and not statement.orelse:
        return all(_noise(s) for s in statement.body)
    return False


def rewrite_block(block: list[ast.stmt]) -> list[ast.stmt]:
    block = [s for s in block if not _noise(s)] or [ast.copy_location(ast.Pass(), block[0])]
    out: list[ast.stmt] = []
    index = 0
    while index < len(block):
        statement = block[index]
        following = block[index + 1] if index + 1 < len(block) else None
        merged = _accumulation(statement, following) or _if_return(statement, following)
        if merged is not None:
            out.append(merged)
            index += 2
            continue
        out.append(_augmented(_if_assign(statement)))
        index += 1
    return _returned_directly(out)


def _returned_directly(block: list[ast.stmt]) -> list[ast.stmt]:
    """``x = E`` then ``return x`` -> ``return E`` (the name is only a label)."""
    if len(block) < 2:
        return block
    last, before = block[-1], block[-2]
    if (
        isinstance(last, ast.Return)
        and isinstance(last.value, ast.Name)
        and isinstance(before, ast.Assign)
        and len(before.targets) == 1
        and isinstance(before.targets[0], ast.Name)
        and before.targets[0].id == last.value.id
    ):
        return [*block[:-2], _merged(ast.Return(before.value), before, last)]
    return block


def _same(a: ast.expr, b: ast.expr) -> bool:
    return ast.unparse(a) == ast.unparse(b)


def _merged(new: ast.stmt, first: ast.stmt, last: ast.stmt) -> ast.stmt:
    """``new`` replacing the statements from ``first`` to ``last``: its ORIGIN covers them."""
    a, b = getattr(first, ORIGIN, None), getattr(last, ORIGIN, None)
    if a and b:
        setattr(new, ORIGIN, (a[0], a[1], b[2], b[3]))
    return ast.copy_location(new, first)


def _augmented(statement: ast.stmt) -> ast.stmt:
    """``a = a + b`` -> ``a += b``."""
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name | ast.Attribute | ast.Subscript)
        and isinstance(statement.value, ast.BinOp)
        and _same(statement.value.left, statement.targets[0])
    ):
        new = ast.AugAssign(statement.targets[0], statement.value.op, statement.value.right)
        return _merged(new, statement, statement)
    return statement


def _if_assign(statement: ast.stmt) -> ast.stmt:
    """``if c: x = A else: x = B`` -> ``x = A if c else B``; the same for returns."""
    if not isinstance(statement, ast.If) or len(statement.body) != 1 or len(statement.orelse) != 1:
        return statement
    yes, no = statement.body[0], statement.orelse[0]
    if isinstance(yes, ast.Return) and isinstance(no, ast.Return) and yes.value and no.value:
        return _merged(ast.Return(ast.IfExp(statement.test, yes.value, no.value)), statement, statement)
    if (
        isinstance(yes, ast.Assign)
        and isinstance(no, ast.Assign)
        and len(yes.targets) == 1
        and len(no.targets) == 1
        and _same(yes.targets[0], no.targets[0])
    ):
        new = ast.Assign(yes.targets, ast.IfExp(statement.test, yes.value, no.value))
        return _merged(new, statement, statement)
    return statement


def _if_return(statement: ast.stmt, following: ast.stmt | None) -> ast.stmt | None:
    """``if c: return A`` then ``return B`` -> ``return A if c else B``."""
    if (
        isinstance(statement, ast.If)
        and not statement.orelse
        and len(statement.body) == 1
        and isinstance(statement.body[0], ast.Return)
        and statement.body[0].value is not None
        and isinstance(following, ast.Return)
        and following.value is not None
    ):
        return _merged(
            ast.Return(ast.IfExp(statement.test, statement.body[0].value, following.value)),
            statement,
            following,
        )
    return None


def _accumulation(statement: ast.stmt, following: ast.stmt | None) -> ast.stmt | None:
    """``r = []`` + a loop that appends -> a comprehension; ``s = 0`` + a loop that adds -> ``sum``."""
    if not (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
        and isinstance(following, ast.For)
    ):
        return None
    target, start = statement.targets[0].id, statement.value
    if isinstance(start, ast.List) and not start.elts:
        found = _loop(following, target, _appended)
        if found is not None:
            value: ast.expr = ast.ListComp(*found)
            return _merged(ast.Assign(statement.targets, value), statement, following)
    if isinstance(start, ast.Constant) and start.value == 0:
        found = _loop(following, target, _added)
        if found is not None:
            value = ast.Call(ast.Name("sum", ast.Load()), [ast.GeneratorExp(*found)], [])
            return _merged(ast.Assign(statement.targets, value), statement, following)
    return None


def _loop(loop: ast.For, target: str, element) -> tuple[ast.expr, list[ast.comprehension]] | None:
    """(element, generators) when ``loop`` (possibly nested, one ``if``) only accumulates into ``target``."""
    if loop.orelse or len(loop.body) != 1:
        return None
    generator = ast.comprehension(loop.target, loop.iter, [], 0)
    inner = loop.body[0]
    if isinstance(inner, ast.If) and not inner.orelse and len(inner.body) == 1:
        generator.ifs.append(inner.test)
        inner = inner.body[0]
    if isinstance(inner, ast.For) and not generator.ifs:
        nested = _loop(inner, target, element)
        return None if nested is None else (nested[0], [generator, *nested[1]])
    value = element(inner, target)
    return None if value is None else (value, [generator])


def _appended(statement: ast.stmt, target: str) -> ast.expr | None:
    if (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Attribute)
        and statement.value.func.attr == "append"
        and isinstance(statement.value.func.value, ast.Name)
        and statement.value.func.value.id == target
        and len(statement.value.args) == 1
        and not statement.value.keywords
    ):
        return statement.value.args[0]
    if (
        isinstance(statement, ast.AugAssign)
        and isinstance(statement.op, ast.Add)
        and isinstance(statement.target, ast.Name)
        and statement.target.id == target
        and isinstance(statement.value, ast.List)
        and len(statement.value.elts) == 1
    ):
        return statement.value.elts[0]
    return None


def _added(statement: ast.stmt, target: str) -> ast.expr | None:
    statement = _augmented(statement)
    if (
        isinstance(statement, ast.AugAssign)
        and isinstance(statement.op, ast.Add)
        and isinstance(statement.target, ast.Name)
        and statement.target.id == target
    ):
        return statement.value
    return None
