"""What dlgrade prints, as exact text."""

import io

from grader.console import HIDDEN_NOTE, Progress, check_table, hint_for
from grader.results.records import SubmissionResult, TestResult
from grader.selfcheck.check_descriptions import CheckInfo


def test_in_ci_each_result_is_one_plain_numbered_line():
    out = io.StringIO()
    progress = Progress(2, out, tty=False)
    progress.add("alice: 23/23 [graded]")
    progress.add("bob: 18/23 [graded]")
    progress.close()
    assert out.getvalue() == "[1/2] alice: 23/23 [graded]\n[2/2] bob: 18/23 [graded]\n"


def test_on_a_terminal_a_bar_with_counts_and_an_eta_follows_the_lines():
    out = io.StringIO()
    progress = Progress(4, out, tty=True)
    progress.add("alice: 23/23 [graded]")
    text = out.getvalue()
    assert text.startswith("\r\x1b[Kalice: 23/23 [graded]\n[#######.......................] 1/4 ETA 0:0")
    progress.add("bob"), progress.add("carol"), progress.add("dave")
    assert out.getvalue().endswith("[##############################] 4/4 ")  # done: no ETA
    progress.close()
    assert out.getvalue().endswith("\r\x1b[K")  # the bar is wiped, the lines stay


def _bob() -> SubmissionResult:
    differ = (
        "sign([-2.5, 0, 3]): 1 of 3 values differ; first at index [1]: expected 0, got 1\n"
        "  expected: [-1, 0, 1]\n  got:      [-1, 1, 1]"
    )
    return SubmissionResult(
        "bob.ipynb",
        "a1",
        "graded",
        tests=(
            TestResult("test_weighted_sum_worked_example", 1, "passed"),
            TestResult("test_sign_of_negative_zero_positive", 1, "failed", differ),
            TestResult(
                "test_sigmoid_at_zero",
                1,
                "not_implemented",
                "sigmoid is not implemented yet (raises NotImplementedError)",
            ),
        ),
    )


CHECKS = {
    "test_weighted_sum_worked_example": CheckInfo("test_weighted_sum_worked_example", ("weighted_sum",)),
    "test_sign_of_negative_zero_positive": CheckInfo(
        "test_sign_of_negative_zero_positive", ("sign",), "sign(0) is 0: treat z == 0 on its own."
    ),
    "test_sigmoid_at_zero": CheckInfo("test_sigmoid_at_zero", ("sigmoid",)),
}


def test_the_check_table_names_the_failing_function_with_expected_got_and_a_hint():
    assert (
        check_table(_bob(), CHECKS)
        == """\
Public checks for a1: bob.ipynb
  PASS  test_weighted_sum_worked_example     weighted_sum
  FAIL  test_sign_of_negative_zero_positive  sign
        sign([-2.5, 0, 3]): 1 of 3 values differ; first at index [1]: expected 0, got 1
          expected: [-1, 0, 1]
          got:      [-1, 1, 1]
        hint: sign(0) is 0: treat z == 0 on its own.
  FAIL  test_sigmoid_at_zero                 sigmoid
        sigmoid is not implemented yet (raises NotImplementedError)
        hint: replace `raise NotImplementedError()` in sigmoid with your code and run the cell.
1 of 3 public checks passed. Still to fix: sign, sigmoid.
"""
        + HIDDEN_NOTE
    )


def test_without_the_checks_the_hint_names_what_the_message_names():
    table = check_table(_bob())
    assert "  FAIL  test_sign_of_negative_zero_positive\n" in table
    assert "hint: work the example in the message by hand and compare each step with sign." in table
    assert "1 of 3 public checks passed.\n" in table


def test_a_hint_follows_from_the_outcome_when_the_check_has_no_docstring():
    info = CheckInfo("test_fit", ("perceptron_fit",))
    hint = [
        hint_for(TestResult("test_fit", 1, outcome, message), info, info.functions)
        for outcome, message in [
            ("missing", "perceptron_fit: not defined"),
            ("timeout", ""),
            ("error", "ValueError: too many values to unpack"),
            ("failed", "perceptron_fit raised KeyError: 3"),
            ("error", "dlgrade could not run this test: the worker could not be restarted"),
        ]
    ]
    assert hint == [
        "define perceptron_fit with exactly this name (names are case-sensitive) in a code cell.",
        "perceptron_fit did not finish in time: look for a loop that never ends.",
        "the check could not use what perceptron_fit returned: compare its type, number of values and "
        "shape with the handout.",
        "perceptron_fit raised an exception: the lines above show where in your code.",
        "nothing in your code is at fault: dlgrade itself could not run this check. Run it again, and "
        "tell your instructor if it happens again.",
    ]


def test_a_feedback_page_blames_no_code_for_dlgrades_own_failure():
    from reports.feedback import page_hint

    assert page_hint("error", "dlgrade could not run this test: the fork server is gone").startswith(
        "Nothing in your code is at fault"
    )
    assert page_hint("error", "TypeError: cannot unpack").startswith("The check could not use what")
