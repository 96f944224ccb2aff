"""What dlgrade prints, as exact text."""

import io

from grader.console import Progress


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
