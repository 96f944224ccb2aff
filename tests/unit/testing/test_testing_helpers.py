"""The suite-author helpers in grader.testing, on the trusted side alone (no sandbox)."""

import pytest
import torch

from grader.testing import (
    assert_finite_where_expected,
    assert_gradient,
    away_from_kinks,
    extremes,
    hidden_label_accuracy,
    numerical_gradient,
    randn,
)


def test_numerical_gradient_of_a_cubic_is_exact_to_rounding():
    x = randn(torch.Generator().manual_seed(0), 3, 4)
    got = numerical_gradient(lambda t: (t**3).sum(), x)
    torch.testing.assert_close(got, 3 * x**2, rtol=1e-8, atol=1e-9)


def test_numerical_gradient_of_a_transposed_view():
    W = randn(torch.Generator().manual_seed(1), 3, 5)
    got = numerical_gradient(lambda t: (t**2).sum(), W.T)  # not contiguous
    torch.testing.assert_close(got, 2 * W.T, rtol=1e-8, atol=1e-9)


def test_numerical_gradient_refuses_float32():
    with pytest.raises(ValueError, match="float64"):
        numerical_gradient(lambda t: t.sum(), torch.ones(2))


def test_numerical_gradient_does_not_touch_its_input():
    x = torch.tensor([1.0, -2.0], dtype=torch.float64)
    numerical_gradient(lambda t: (t**2).sum(), x)
    assert x.tolist() == [1.0, -2.0]


def test_a_non_scalar_loss_is_the_students_problem_not_a_crash():
    with pytest.raises(AssertionError, match="single number"):
        numerical_gradient(lambda t: t * 2, torch.ones(2, dtype=torch.float64))


def test_assert_gradient_names_what_it_compared_against():
    with pytest.raises(AssertionError, match=r"dW of layer 1 \(compared with the reference\)"):
        assert_gradient(torch.zeros(2, 3), torch.ones(2, 3), what="dW of layer 1", against="the reference")


def test_away_from_kinks_moves_only_what_is_too_close():
    z = torch.tensor([0.0, 5e-5, -2e-5, 0.5, -3.0], dtype=torch.float64)
    assert away_from_kinks(z, 1e-4).tolist() == [1e-4, 1e-4, -1e-4, 0.5, -3.0]


class FakeModel:
    """An in-process double of a ``Remote`` holding a model: logits are fixed, calls recorded."""

    def __init__(self, logits):
        self.logits, self.calls, self.grad_off = logits, [], False

    def call_keep(self, method, *args):
        self.calls.append(method)

    def call(self, method, x):
        self.calls.append((method, tuple(x.shape), self.grad_off))
        return self.logits

    def no_grad(self):
        model = self

        class Block:
            def __enter__(self):
                model.grad_off = True

            def __exit__(self, *exc):
                model.grad_off = False

        return Block()


def test_accuracy_counts_on_this_side_and_sends_only_features():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.0, 4.0]])
    model = FakeModel(logits)
    y = torch.tensor([0, 1, 1, 1])
    assert hidden_label_accuracy(model, torch.zeros(4, 5), y) == 0.75
    assert model.calls == ["eval", ("__call__", (4, 5), True)]  # eval mode, no gradients, x only


@pytest.mark.parametrize(
    "logits, complaint",
    [
        (torch.zeros(3, 2), "shape"),
        (torch.zeros(4, 1), "classes"),
        ([1, 2], "shape"),
        (torch.full((4, 2), float("nan")), "NaN"),
    ],
)
def test_accuracy_refuses_logits_that_cannot_be_scored(logits, complaint):
    with pytest.raises(AssertionError, match=complaint):
        hidden_label_accuracy(FakeModel(logits), torch.zeros(4, 5), torch.tensor([0, 1, 1, 0]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_extremes_hold_both_signs_of_what_overflows_exp_and_the_largest_value(dtype):
    z = extremes(dtype)
    assert z.dtype == dtype and torch.equal(z[1], -z[0])
    assert {0.0, 100.0, 800.0, 1e4, torch.finfo(dtype).max} <= set(z[0].tolist())
    assert not bool(torch.isfinite(torch.exp(z)).all())  # what a naive formula meets
    assert torch.finfo(dtype).max not in extremes(dtype, largest=False)[0].tolist()


def test_assert_finite_where_expected_names_the_inputs_that_overflowed():
    z = extremes(torch.float32, largest=False)
    naive = (torch.exp(z) - torch.exp(-z)) / (torch.exp(z) + torch.exp(-z))
    shown = r"tanh\(z\): nan \(not a finite number\) where 1 was expected, .* inputs -10000, -800, -100, 100,"
    with pytest.raises(AssertionError, match=shown):
        assert_finite_where_expected(naive, torch.tanh(z), z, what="tanh(z)")
    assert_finite_where_expected(torch.tanh(z), torch.tanh(z), z)  # a stable form passes
