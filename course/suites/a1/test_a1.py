"""Hidden suite for a1, the perceptron (23 points).

Inputs come from the ``rng`` fixture, seeded from each test's name; expected values
come from ``reference.a1`` on this, the trusted, side.
"""

import pytest
import torch

from grader.testing import assert_tensor, assert_unchanged
from reference import a1 as ref

DTYPES = [torch.float32, torch.float64]


def randn(rng, *shape, dtype=torch.float64, device="cpu"):
    return torch.randn(shape, generator=rng, dtype=dtype).to(device)


# ----------------------------------------------------------------- weighted_sum


@pytest.mark.points(1)
def test_weighted_sum_worked_example(student, device):
    x = torch.tensor([-2.0, 3.0], device=device)
    w = torch.tensor([3.0, -2.0], device=device)
    got = student.weighted_sum(x, w, 0.5)
    assert_tensor(got, torch.tensor(-11.5, device=device), what="weighted_sum([-2, 3], [3, -2], 0.5)")


@pytest.mark.points(1)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_weighted_sum_batch(student, rng, device, dtype):
    x, w = randn(rng, 7, 5, dtype=dtype, device=device), randn(rng, 5, dtype=dtype, device=device)
    b = randn(rng, dtype=dtype, device=device)  # a 0-d tensor
    assert_tensor(
        student.weighted_sum(x, w, b),
        ref.weighted_sum(x, w, b),
        rtol=1e-5,
        atol=1e-6,
        what="weighted_sum(x of shape (7, 5), w, b)",
    )


@pytest.mark.points(1)
def test_weighted_sum_single_sample_and_float_bias(student, rng, device):
    x, w = randn(rng, 4, device=device), randn(rng, 4, device=device)
    assert_tensor(
        student.weighted_sum(x, w, -1.25),
        ref.weighted_sum(x, w, -1.25),
        what="weighted_sum(x of shape (4,), w, b=-1.25)",
    )


# ----------------------------------------------------------------- sign and sigmoid


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_sign_with_exact_zeros(student, rng, device, dtype):
    z = randn(rng, 6, 4, dtype=dtype, device=device)
    z[::2, 1] = 0.0  # sign(0) must be 0
    assert_tensor(student.sign(z), ref.sign(z), what="sign(z) (z has exact zeros)")


@pytest.mark.points(1)
def test_sigmoid_matches_reference(student, rng, device):
    z = 4 * randn(rng, 5, 3, device=device)
    assert_tensor(student.sigmoid(z), ref.sigmoid(z), rtol=1e-6, atol=1e-9, what="sigmoid(z)")


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_sigmoid_is_finite_at_extremes(student, device, dtype):
    z = torch.tensor([-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4], dtype=dtype, device=device)
    got = student.sigmoid(z)
    assert_tensor(got, ref.sigmoid(z), rtol=1e-5, atol=1e-7, what="sigmoid of [-1e4, ..., 1e4]")
    assert bool(torch.isfinite(got).all()), "sigmoid returned inf or nan for inputs as large as ±1e4"


# ----------------------------------------------------------------- prediction


@pytest.mark.points(1)
def test_predict_worked_example(student, device):
    x = torch.tensor([-2.0, 3.0], device=device)
    w = torch.tensor([3.0, -2.0], device=device)
    assert_tensor(
        student.perceptron_predict(x, w, 0.5),
        torch.tensor(-1.0, device=device),
        what="perceptron_predict([-2, 3], [3, -2], 0.5)",
    )


@pytest.mark.points(1)
def test_predict_batch_with_a_point_on_the_boundary(student, rng, device):
    x, w = randn(rng, 8, 3, device=device), randn(rng, 3, device=device)
    x[0] = 0.0  # exactly on the boundary when b == 0: the prediction is 0
    assert_tensor(
        student.perceptron_predict(x, w, 0.0),
        ref.perceptron_predict(x, w, 0.0),
        what="perceptron_predict(x of shape (8, 3), w, 0.0)",
    )


# ----------------------------------------------------------------- Rosenblatt's rule


def separable(rng, n, d, device):
    x = randn(rng, n, d, device=device)
    w_true = randn(rng, d, device=device)
    z = x @ w_true + 0.3
    x = x[z.abs() > 0.1]  # a margin, so the data really are separable
    return x, torch.sign(x @ w_true + 0.3)


@pytest.mark.points(2)
def test_fit_rosenblatt_one_epoch_by_hand(student, device):
    # Worked by hand, lr = 0.5, starting from w = [0, 0], b = 0:
    #   x1 = [1, 2],   y1 = +1: z = 0    -> y*z <= 0, update: w = [0.5, 1],    b = 0.5
    #   x2 = [2, -1],  y2 = -1: z = 0.5  -> y*z < 0,  update: w = [-0.5, 1.5], b = 0
    #   x3 = [-1, -1], y3 = -1: z = -1   -> y*z > 0,  no update
    x = torch.tensor([[1.0, 2.0], [2.0, -1.0], [-1.0, -1.0]], device=device)
    y = torch.tensor([1.0, -1.0, -1.0], device=device)
    w, b = student.perceptron_fit(x, y, lr=0.5, epochs=1)
    assert_tensor(w, torch.tensor([-0.5, 1.5], device=device), what="w after one epoch")
    assert_tensor(
        torch.as_tensor(b, device=device, dtype=x.dtype).reshape(()),
        torch.tensor(0.0, device=device),
        what="b after one epoch",
    )


@pytest.mark.points(2)
def test_fit_separable_data_matches_reference(student, rng, device):
    x, y = separable(rng, 30, 3, device)
    w, b = student.perceptron_fit(x, y)
    w_ref, b_ref = ref.perceptron_fit(x, y)
    assert_tensor(w, w_ref, what="w")
    assert_tensor(torch.as_tensor(b, dtype=x.dtype, device=device).reshape(()), b_ref, what="b")
    assert_tensor(ref.perceptron_predict(x, w, b), y, what="predictions on the training data")


@pytest.mark.points(2)
def test_fit_stops_after_epochs_on_inseparable_data(student, rng, device):
    x = randn(rng, 12, 2, device=device)
    y = torch.where(torch.rand(12, generator=rng) < 0.5, -1.0, 1.0).double().to(device)
    y[:2] = torch.tensor([-1.0, 1.0], dtype=y.dtype)  # both classes present
    x[1] = x[0]  # the same point with both labels: never separable
    for epochs in (1, 2, 3, 5):
        w, b = student.perceptron_fit(x, y, lr=1.0, epochs=epochs)
        w_ref, b_ref = ref.perceptron_fit(x, y, lr=1.0, epochs=epochs)
        assert_tensor(w, w_ref, what=f"w after epochs={epochs} on inseparable data")
        assert_tensor(
            torch.as_tensor(b, dtype=x.dtype, device=device).reshape(()),
            b_ref,
            what=f"b after epochs={epochs} on inseparable data",
        )


@pytest.mark.points(1)
def test_fit_learning_rate(student, rng, device):
    x, y = separable(rng, 20, 2, device)
    w, b = student.perceptron_fit(x, y, lr=0.1)
    w_ref, _ = ref.perceptron_fit(x, y, lr=0.1)
    assert_tensor(w, w_ref, what="w with lr=0.1")


@pytest.mark.points(1)
def test_fit_keeps_dtype_and_inputs(student, rng, device):
    x, y = separable(rng, 12, 3, device)
    x32, y32 = x.float(), y.float()
    x_remote, y_remote = student.put(x32), student.put(y32)
    w, _ = student.perceptron_fit(x_remote, y_remote, lr=0.5)
    assert_tensor(w, ref.perceptron_fit(x32, y32, lr=0.5)[0], rtol=1e-5, atol=1e-6, what="w for float32 data")
    assert_unchanged(x32, x_remote.fetch(), "x")
    assert_unchanged(y32, y_remote.fetch(), "y")
