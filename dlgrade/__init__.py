"""Self-checks from inside a notebook: the last cell of every assignment is

    import dlgrade
    dlgrade.check("a1")

which runs the assignment's public checks on the functions the notebook has run so
far and prints a table: which function fails, what was expected, what came back,
and a hint. It is ``dlgrade check NOTEBOOK`` for a kernel (``grader/selfcheck/check.py``):
the code runs again in a sandboxed worker, as it will when it is graded, so the
table shows what the grader will see, not what the kernel happens to hold.

Importing this module is cheap; the grader is imported on the first check.
"""

from __future__ import annotations

__all__ = ["check"]


def check(assignment: str | None = None) -> None:
    """Run the public checks of ``assignment`` (default: guessed) on the cells run so far."""
    from grader.selfcheck.check import check_kernel

    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: there is no notebook history to check
        get_ipython = None  # noqa: N806
    shell = get_ipython() if get_ipython else None
    if shell is None:
        raise RuntimeError("dlgrade.check() runs in a notebook; in a terminal: dlgrade check NOTEBOOK")
    print(check_kernel(shell, assignment))
