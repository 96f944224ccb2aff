"""Public checks for a1: a small sample of what the hidden tests look at.

Run them with ``dlgrade check a1.ipynb``. Passing these does not mean the hidden
tests pass: those use random inputs, both float dtypes and more cases.
"""

import pytest
import torch

from grader.testing import assert_tensor


@pytest.mark.points(1)
def test_weighted_sum_worked_example(student):
    """One sample: x @ w + b for x = [-2, 3], w = [3, -2], b = 0.5 is -6 - 6 + 0.5 = -11.5. Look
    at weighted_sum: a dot product of x and w, plus b once."""
    got = student.weighted_sum(torch.tensor([-2.0, 3.0]), torch.tensor([3.0, -2.0]), 0.5)
    assert_tensor(got, torch.tensor(-11.5), what="weighted_sum([-2, 3], [3, -2], 0.5)")


@pytest.mark.points(1)
def test_weighted_sum_batch_shape(student):
    """A batch of 4 samples gives 4 sums, shape (4,). Look at weighted_sum: x @ w works for one
    sample (d,) and for a batch (n, d); a loop or a sum over the wrong dimension changes the
    shape."""
    got = student.weighted_sum(torch.ones(4, 3), torch.tensor([1.0, 2.0, 3.0]), 1.0)
    assert_tensor(got, torch.full((4,), 7.0), what="weighted_sum(ones(4, 3), [1, 2, 3], 1.0)")


@pytest.mark.points(1)
def test_sign_of_negative_zero_positive(student):
    """sign of [-2.5, 0, 3] is [-1, 0, 1], in z's dtype. Look at sign: 0 must map to 0, so test
    z > 0 and z < 0 separately."""
    got = student.sign(torch.tensor([-2.5, 0.0, 3.0]))
    assert_tensor(got, torch.tensor([-1.0, 0.0, 1.0]), what="sign([-2.5, 0, 3])")


@pytest.mark.points(1)
def test_sigmoid_at_zero_and_large_inputs(student):
    """sigmoid(0) = 0.5, and sigmoid(1e4) = 1, sigmoid(-1e4) = 0 without nan or overflow. Look
    at sigmoid: exp of a large positive number overflows; compute from exp(-|z|)."""
    got = student.sigmoid(torch.tensor([0.0, 1e4, -1e4]))
    assert_tensor(got, torch.tensor([0.5, 1.0, 0.0]), what="sigmoid([0, 1e4, -1e4])")


@pytest.mark.points(1)
def test_predict_worked_example(student):
    """perceptron_predict on the weighted_sum example (-11.5) is -1. Look at perceptron_predict:
    the sign of weighted_sum, using your sign."""
    got = student.perceptron_predict(torch.tensor([-2.0, 3.0]), torch.tensor([3.0, -2.0]), 0.5)
    assert_tensor(got, torch.tensor(-1.0), what="perceptron_predict([-2, 3], [3, -2], 0.5)")


@pytest.mark.points(1)
def test_fit_separates_a_tiny_data_set(student):
    """On 4 separable points, the fitted w, b classify every training point right. Look at
    perceptron_fit: update w and b only on a misclassified point, and keep going over the data
    until none is."""
    x = torch.tensor([[2.0, 1.0], [1.0, 3.0], [-1.0, -2.0], [-2.0, -1.0]])
    y = torch.tensor([1.0, 1.0, -1.0, -1.0])
    w, b = student.perceptron_fit(x, y)
    predictions = torch.sign(x @ w + b)
    assert_tensor(predictions, y, what="predictions of the fitted perceptron on its training data")
