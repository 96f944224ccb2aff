"""The a1 checks that nbgrader and otter-grader run, written once.

dlgrade grades a1 with its hidden suite (``suites/a1/test_a1.py``, 23 points). The
other two tools cannot call a trusted reference: their tests run inside the
student's kernel. So each check here is plain Python with asserts that compare the
student's function against a formula, a hand-worked value or ``torch``'s own
function, on seeded inputs. The same text becomes an nbgrader autograder test cell
and the body of an otter-grader test case, so both tools run exactly the same
asserts; the checks follow the hidden suite test for test (same functions, same
points, 23 in all), so the three tools do comparable work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from textwrap import dedent


@dataclass(frozen=True)
class Check:
    """One graded check: ``code`` uses ``torch`` and the student functions in ``uses``."""

    name: str
    question: str  # the student function it grades: one otter question per function
    points: int
    uses: tuple[str, ...]
    code: str


# A reference perceptron_fit for the checks that compare against one. In nbgrader and
# otter it has to live in the test itself, since their tests run in the student's kernel.
REF_FIT = """
def _ref_fit(x, y, lr=1.0, epochs=100):
    y = y.to(x.dtype)
    w = torch.zeros(x.shape[1], dtype=x.dtype)
    b = torch.zeros((), dtype=x.dtype)
    for _ in range(epochs):
        updated = False
        for x_i, y_i in zip(x, y):
            if y_i * (x_i @ w + b) <= 0:
                w, b, updated = w + lr * y_i * x_i, b + lr * y_i, True
        if not updated:
            break
    return w, b


def _separable(seed, n, d):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    w_true = torch.randn(d, generator=g, dtype=torch.float64)
    x = x[(x @ w_true + 0.3).abs() > 0.1]
    return x, torch.sign(x @ w_true + 0.3)
"""


def _check(name: str, question: str, points: int, code: str, ref_fit: bool = False) -> Check:
    body = dedent(code).strip() + "\n"
    if ref_fit:
        body = REF_FIT.strip() + "\n\n\n" + body
    uses = tuple(f for f in FUNCTIONS if re.search(rf"(?<![\w.]){f}\(", body)) + ("torch",)
    return Check(name, question, points, uses, body)


FUNCTIONS = ("weighted_sum", "sign", "sigmoid", "perceptron_predict", "perceptron_fit")

CHECKS = (
    _check(
        "weighted_sum_worked_example",
        "weighted_sum",
        1,
        """
        got = weighted_sum(torch.tensor([-2.0, 3.0]), torch.tensor([3.0, -2.0]), 0.5)
        torch.testing.assert_close(got, torch.tensor(-11.5))
    """,
    ),
    _check(
        "weighted_sum_batch",
        "weighted_sum",
        2,
        """
        g = torch.Generator().manual_seed(1)
        for dtype in (torch.float32, torch.float64):
            x = torch.randn(7, 5, generator=g, dtype=dtype)
            w = torch.randn(5, generator=g, dtype=dtype)
            b = torch.randn((), generator=g, dtype=dtype)
            torch.testing.assert_close(weighted_sum(x, w, b), x @ w + b, rtol=1e-5, atol=1e-6)
    """,
    ),
    _check(
        "weighted_sum_single_sample_float_bias",
        "weighted_sum",
        1,
        """
        g = torch.Generator().manual_seed(2)
        x = torch.randn(4, generator=g, dtype=torch.float64)
        w = torch.randn(4, generator=g, dtype=torch.float64)
        torch.testing.assert_close(weighted_sum(x, w, -1.25), x @ w - 1.25)
    """,
    ),
    _check(
        "sign_with_exact_zeros",
        "sign",
        4,
        """
        g = torch.Generator().manual_seed(3)
        for dtype in (torch.float32, torch.float64):
            z = torch.randn(6, 4, generator=g, dtype=dtype)
            z[::2, 1] = 0.0
            torch.testing.assert_close(sign(z), torch.sign(z), rtol=0, atol=0)
    """,
    ),
    _check(
        "sigmoid_matches_torch",
        "sigmoid",
        1,
        """
        g = torch.Generator().manual_seed(4)
        z = 4 * torch.randn(5, 3, generator=g, dtype=torch.float64)
        torch.testing.assert_close(sigmoid(z), torch.sigmoid(z), rtol=1e-6, atol=1e-9)
    """,
    ),
    _check(
        "sigmoid_is_finite_at_extremes",
        "sigmoid",
        4,
        """
        for dtype in (torch.float32, torch.float64):
            z = torch.tensor([-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4], dtype=dtype)
            got = sigmoid(z)
            assert bool(torch.isfinite(got).all()), "sigmoid is not finite at +-1e4"
            torch.testing.assert_close(got, torch.sigmoid(z), rtol=1e-5, atol=1e-7)
    """,
    ),
    _check(
        "predict_worked_example",
        "perceptron_predict",
        1,
        """
        got = perceptron_predict(torch.tensor([-2.0, 3.0]), torch.tensor([3.0, -2.0]), 0.5)
        torch.testing.assert_close(got, torch.tensor(-1.0))
    """,
    ),
    _check(
        "predict_batch_with_a_point_on_the_boundary",
        "perceptron_predict",
        1,
        """
        g = torch.Generator().manual_seed(5)
        x = torch.randn(8, 3, generator=g, dtype=torch.float64)
        w = torch.randn(3, generator=g, dtype=torch.float64)
        x[0] = 0.0
        torch.testing.assert_close(perceptron_predict(x, w, 0.0), torch.sign(x @ w), rtol=0, atol=0)
    """,
    ),
    _check(
        "fit_one_epoch_by_hand",
        "perceptron_fit",
        2,
        """
        x = torch.tensor([[1.0, 2.0], [2.0, -1.0], [-1.0, -1.0]])
        y = torch.tensor([1.0, -1.0, -1.0])
        w, b = perceptron_fit(x, y, lr=0.5, epochs=1)
        torch.testing.assert_close(w, torch.tensor([-0.5, 1.5]))
        assert abs(float(b)) < 1e-6, f"b after one epoch is {float(b)}, expected 0"
    """,
    ),
    _check(
        "fit_separable_data",
        "perceptron_fit",
        2,
        """
        x, y = _separable(6, 30, 3)
        w, b = perceptron_fit(x, y)
        w_ref, b_ref = _ref_fit(x, y)
        torch.testing.assert_close(w, w_ref)
        assert abs(float(b) - float(b_ref)) < 1e-9, f"b is {float(b)}, expected {float(b_ref)}"
        torch.testing.assert_close(torch.sign(x @ w + float(b)), y)
    """,
        ref_fit=True,
    ),
    _check(
        "fit_stops_after_epochs_on_inseparable_data",
        "perceptron_fit",
        2,
        """
        g = torch.Generator().manual_seed(7)
        x = torch.randn(12, 2, generator=g, dtype=torch.float64)
        y = torch.where(torch.rand(12, generator=g) < 0.5, -1.0, 1.0).double()
        y[:2] = torch.tensor([-1.0, 1.0], dtype=torch.float64)
        x[1] = x[0]
        for epochs in (1, 2, 3, 5):
            w, b = perceptron_fit(x, y, lr=1.0, epochs=epochs)
            w_ref, b_ref = _ref_fit(x, y, lr=1.0, epochs=epochs)
            torch.testing.assert_close(w, w_ref)
            assert abs(float(b) - float(b_ref)) < 1e-9, f"b after {epochs} epochs"
    """,
        ref_fit=True,
    ),
    _check(
        "fit_learning_rate",
        "perceptron_fit",
        1,
        """
        x, y = _separable(8, 20, 2)
        w, _ = perceptron_fit(x, y, lr=0.1)
        torch.testing.assert_close(w, _ref_fit(x, y, lr=0.1)[0])
    """,
        ref_fit=True,
    ),
    _check(
        "fit_keeps_dtype_and_inputs",
        "perceptron_fit",
        1,
        """
        x, y = _separable(9, 12, 3)
        x32, y32 = x.float(), y.float()
        x_copy, y_copy = x32.clone(), y32.clone()
        w, _ = perceptron_fit(x32, y32, lr=0.5)
        torch.testing.assert_close(w, _ref_fit(x32, y32, lr=0.5)[0], rtol=1e-5, atol=1e-6)
        assert torch.equal(x32, x_copy) and torch.equal(y32, y_copy), "perceptron_fit changed its inputs"
    """,
        ref_fit=True,
    ),
)

MAX_POINTS = sum(check.points for check in CHECKS)
