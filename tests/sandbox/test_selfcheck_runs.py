"""Self-checks: `dlgrade check NOTEBOOK` in a terminal, `dlgrade.check()` in a notebook.

Split from ``tests/unit/selfcheck/test_selfcheck.py``: these tests start real workers; the ones that
do not are in ``tests/unit/selfcheck/test_selfcheck.py``.
"""

import pytest
import torch
from click.testing import CliRunner
from support import ROOT, flatten_reference

from grader.selfcheck.check import HISTORY_LABEL, check_command

SAMPLES = ROOT / "examples" / "submissions" / "a1"


# ---------------------------------------------------------------- running them (sandboxed workers)


@pytest.mark.sandbox
def test_check_names_the_failing_function_with_expected_got_and_a_hint():
    run = CliRunner().invoke(check_command, [str(SAMPLES / "bob.ipynb")])
    assert run.exit_code == 1
    assert "  FAIL  test_sign_of_negative_zero_positive    sign\n" in run.output
    assert "expected: [-1, 0, 1]" in run.output and "got:      [-1, 1, 1]" in run.output
    assert "        hint: sign of [-2.5, 0, 3] is [-1, 0, 1], in z's dtype. Look at sign: " in run.output
    assert "5 of 6 public checks passed. Still to fix: sign." in run.output
    assert "hidden tests" in run.output


@pytest.mark.sandbox
def test_check_in_a_notebook_runs_what_the_kernel_ran_and_leaves_its_random_state(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_cell(flatten_reference("a1"), store_history=True)
        shell.run_cell("def sign(z):\n    return (z >= 0).float() * 2 - 1", store_history=True)  # sign(0) = 1
        shell.run_cell("import torch\ntorch.manual_seed(7)", store_history=True)
        capsys.readouterr()
        shell.run_cell('import dlgrade\ndlgrade.check("a1")', store_history=True)
        table = capsys.readouterr().out
        after = torch.rand(1)
    finally:
        InteractiveShell.clear_instance()
    assert table.startswith(f"Public checks for a1: {HISTORY_LABEL}\n")
    assert "  FAIL  test_sign_of_negative_zero_positive    sign\n" in table  # the later definition wins
    assert "5 of 6 public checks passed. Still to fix: sign." in table
    assert "dlgrade" not in table.split("\n  PASS")[0]  # the self-check cell is not part of the code
    torch.manual_seed(7)
    assert torch.equal(after, torch.rand(1))  # the seed the student set still holds
