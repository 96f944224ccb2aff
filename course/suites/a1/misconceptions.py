"""a1's misconceptions: the perceptron's classic slips, each recognised by what it returns.

Each probe calls the student's function on inputs of its own and compares with
``reference.a1`` with one change (``changed``).
"""

import torch

from grader.testing import assert_tensor, extremes
from grader.testing.misconceptions import Catalogue, changed
from reference.a1 import perceptron

CATALOGUE = Catalogue("a1")

STABLE_SIGMOID = "return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))"


@CATALOGUE.misconception(
    "sigmoid-overflows",
    title="sigmoid written with an exp that overflows",
    did="your sigmoid computes exp(z) / (1 + exp(z)): beyond z of about 89 (float32) or 710 (float64) "
    "exp(z) is inf, and inf / inf is nan where the sigmoid is 1.",
    asks="a sigmoid that is finite and in [0, 1] for every finite input, ±1e4 included: 1 / (1 + exp(-z)) "
    "for z >= 0 and exp(z) / (1 + exp(z)) for z < 0, so that exp only ever sees -|z|.",
    look="your sigmoid.",
    tests=["test_sigmoid_is_finite_at_extremes"],
)
def sigmoid_overflows(student, device, suite):
    naive = changed(perceptron, (STABLE_SIGMOID, "return torch.exp(z) / (1 + torch.exp(z))")).sigmoid
    for dtype in (torch.float64, torch.float32):
        z = extremes(dtype, device, largest=False)
        assert_tensor(student.sigmoid(z), naive(z), equal_nan=True, what="sigmoid at ±1e4")


@CATALOGUE.misconception(
    "sign-of-zero-is-one",
    title="sign(0) taken as 1",
    did="your sign returns 1 where z is exactly 0 (z >= 0), so a point on the decision boundary is "
    "predicted as class +1.",
    asks="sign(z) is -1 where z < 0, 0 where z == 0 and 1 where z > 0.",
    look="the comparisons in sign.",
    tests=["test_sign_with_exact_zeros", "test_predict_batch_with_a_point_on_the_boundary"],
)
def sign_of_zero_is_one(student, device, suite):
    ones_at_zero = changed(perceptron, ("(z > 0).to(z.dtype)", "(z >= 0).to(z.dtype)")).sign
    z = torch.tensor([[-2.0, 0.0, 3.0], [0.0, 0.5, -0.0]], dtype=torch.float64, device=device)
    assert_tensor(student.sign(z), ones_at_zero(z), what="sign with exact zeros")


@CATALOGUE.misconception(
    "perceptron-updates-only-strict-mistakes",
    title="The perceptron updates only where y * z < 0",
    did="your perceptron_fit updates only where y_i * z_i < 0. Starting from zero weights every z_i is "
    "0, so nothing is ever updated and the weights stay 0.",
    asks="a sample counts as misclassified where y_i * z_i <= 0: a point on the boundary triggers an "
    "update too, which is what moves the all-zero start.",
    look="the condition of the update in perceptron_fit.",
    tests=[
        "test_fit_rosenblatt_one_epoch_by_hand",
        "test_fit_separable_data_matches_reference",
        "test_fit_stops_after_epochs_on_inseparable_data",
        "test_fit_learning_rate",
        "test_fit_keeps_dtype_and_inputs",
    ],
)
def perceptron_updates_only_strict_mistakes(student, device, suite):
    strictly = ("weighted_sum(x_i, w, b) <= 0", "weighted_sum(x_i, w, b) < 0")
    strict = changed(perceptron, strictly).perceptron_fit
    x = torch.tensor([[1.0, 2.0], [2.0, -1.0], [-1.0, -1.0]], device=device)
    y = torch.tensor([1.0, -1.0, -1.0], device=device)
    w, b = student.perceptron_fit(x, y, lr=0.5, epochs=3)
    w_expected, b_expected = strict(x, y, lr=0.5, epochs=3)
    assert_tensor(w, w_expected, what="w")
    assert_tensor(torch.as_tensor(b, dtype=x.dtype, device=device).reshape(()), b_expected, what="b")
