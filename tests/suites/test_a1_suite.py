"""The a1 hidden suite tells right from wrong: the reference passes every test, the
untouched notebook passes none, each test has a mutant it catches, and the variants
the spec allows get full marks."""

import pytest
from support import SuiteSelfTest

pytestmark = pytest.mark.sandbox

FULL_MARKS = 23


# hidden test -> (old, new): one small bug in the reference that this test must catch
MUTANTS = {
    "test_weighted_sum_worked_example": ("return x @ w + b", "return x @ w - b"),
    "test_weighted_sum_batch[torch.float32]": ("return x @ w + b", "return (x @ w + b).double()"),
    "test_weighted_sum_batch[torch.float64]": ("return x @ w + b", "return (x @ w + b).float()"),
    "test_weighted_sum_single_sample_and_float_bias": ("return x @ w + b", "return (x @ w + b).reshape(-1)"),
    "test_sign_with_exact_zeros[torch.float32]": ("(z > 0).to(z.dtype)", "(z >= 0).to(z.dtype)"),
    "test_sign_with_exact_zeros[torch.float64]": ("(z > 0).to(z.dtype)", "(z >= 0).to(z.dtype)"),
    "test_sigmoid_matches_reference": (
        "return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))",
        "return torch.where(z >= 0, 1 / (1 + e), e / (1 + e)) * 0.999",
    ),
    "test_sigmoid_is_finite_at_extremes[torch.float32]": (
        "return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))",
        "return torch.exp(z) / (1 + torch.exp(z))",
    ),
    "test_sigmoid_is_finite_at_extremes[torch.float64]": (
        "return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))",
        "return torch.exp(z) / (1 + torch.exp(z))",
    ),
    "test_predict_worked_example": (
        "return sign(weighted_sum(x, w, b))",
        "return -sign(weighted_sum(x, w, b))",
    ),
    "test_predict_batch_with_a_point_on_the_boundary": (
        "return sign(weighted_sum(x, w, b))",
        "return sign(weighted_sum(x, w, b) + 1e-9)",
    ),
    "test_fit_rosenblatt_one_epoch_by_hand": ("weighted_sum(x_i, w, b) <= 0", "weighted_sum(x_i, w, b) < 0"),
    "test_fit_separable_data_matches_reference": ("zip(x, y, strict=True)", "zip(x.flip(0), y.flip(0))"),
    "test_fit_stops_after_epochs_on_inseparable_data": ("range(epochs)", "range(epochs + 1)"),
    "test_fit_learning_rate": ("w = w + lr * y_i * x_i", "w = w + y_i * x_i"),
    "test_fit_keeps_dtype_and_inputs": ("    return w, b\n", "    x.zero_()\n    return w, b\n"),
}

# What the spec allows: library activations, other ways to write the sum, b as a float.
VARIANT = """
import torch

def weighted_sum(x, w, b):
    return torch.matmul(x, w) + b

sign = torch.sign
sigmoid = torch.sigmoid

def perceptron_predict(x, w, b):
    return torch.sign((x * w).sum(dim=-1) + b)

def perceptron_fit(x, y, lr=1.0, epochs=100):
    w = x.new_zeros(x.shape[1])
    b = 0.0
    for _ in range(epochs):
        changed = False
        for i in range(len(x)):
            if float(y[i]) * float(x[i] @ w + b) <= 0:
                w = w + lr * y[i] * x[i]
                b = b + lr * float(y[i])
                changed = True
        if not changed:
            break
    return w, b
"""


# suites/a1/misconceptions.py's catalogue -> a notebook with exactly that misconception
MISCONCEPTIONS = {
    "sigmoid-overflows": [
        ("return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))", "return torch.exp(z) / (1 + torch.exp(z))"),
    ],
    "sign-of-zero-is-one": [("(z > 0).to(z.dtype)", "(z >= 0).to(z.dtype)")],
    "perceptron-updates-only-strict-mistakes": [
        ("weighted_sum(x_i, w, b) <= 0", "weighted_sum(x_i, w, b) < 0"),
    ],
}


class TestA1Suite(SuiteSelfTest):
    ASSIGNMENT, FULL_MARKS, MUTANTS, VARIANT = "a1", FULL_MARKS, MUTANTS, VARIANT
    MISCONCEPTIONS = MISCONCEPTIONS
