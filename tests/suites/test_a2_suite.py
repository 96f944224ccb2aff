"""The a2 hidden suite tells right from wrong: the reference and the source notebook
pass every test, the untouched notebook passes none, each test has a mutant it
catches, and a variant written with other (allowed) means gets full marks: library
activations, logsumexp, torch.normal drawing the layers in another order."""

import pytest
from support import SuiteSelfTest, assert_full_marks, named_misconceptions, probes_that_match

from grader.grading.grade import grade

pytestmark = pytest.mark.sandbox

FULL_MARKS = 35

SOFTMAX_EXP = "e = torch.exp(z - z.amax(dim=-1, keepdim=True))"
SOFTMAX_SUM = "e / e.sum(dim=-1, keepdim=True)"
LOG_SOFTMAX_SHIFT = "shifted = z - z.amax(dim=-1, keepdim=True)"
CROSS_ENTROPY = "-log_softmax(logits)[rows, y].mean()"
DRAW = "torch.randn(d_in, d_out, generator=generator, device=device) * s"

# hidden test -> (old, new): one small bug in the reference that this test must catch
MUTANTS = {
    "test_relu": ("return z.clamp(min=0)", "return z.clamp_(min=0)"),  # right values, input clobbered
    "test_leaky_relu_default_and_other_alpha": ("z, alpha * z)", "z, 0.01 * z)"),  # alpha ignored
    "test_tanh": ("return torch.tanh(z)", "return torch.tanh(z).float()"),  # float64 not kept
    "test_elu_default_and_other_alpha": (
        "alpha * torch.expm1(z.clamp(max=0))",
        "torch.expm1(z.clamp(max=0))",
    ),
    # the naive formulas: each overflows (or cancels) where the stable one does not
    "test_activation_at_extreme_inputs[relu]": ("return z.clamp(min=0)", "return (z + z.abs()) / 2"),
    "test_activation_at_extreme_inputs[leaky_relu]": (
        "torch.where(z > 0, z, alpha * z)",
        "((1 + alpha) * z + (1 - alpha) * z.abs()) / 2",
    ),
    "test_activation_at_extreme_inputs[tanh]": (
        "return torch.tanh(z)",
        "return (torch.exp(z) - torch.exp(-z)) / (torch.exp(z) + torch.exp(-z))",
    ),
    "test_activation_at_extreme_inputs[elu]": (  # masks multiplied: inf * 0 is nan
        "torch.where(z > 0, z, alpha * torch.expm1(z.clamp(max=0)))",
        "z * (z > 0) + alpha * torch.expm1(z) * (z <= 0)",
    ),
    "test_softmax_matches_reference": (SOFTMAX_SUM, "e / e.sum(dim=0, keepdim=True)"),
    "test_softmax_over_the_last_dim_of_a_3d_input": (SOFTMAX_SUM, "e / e.sum(dim=1, keepdim=True)"),
    "test_softmax_is_finite_at_1e4": (SOFTMAX_EXP, "e = torch.exp(z)"),
    "test_softmax_rows_of_very_different_scale": (SOFTMAX_EXP, "e = torch.exp(z - z.amax())"),  # batch max
    "test_dense_distinct_sizes": ("return x @ W + b", "return x @ W"),
    "test_init_params_shapes_and_zero_biases": (
        "b = torch.zeros(d_out, device=device)",
        "b = torch.full((d_out,), 0.01, device=device)",
    ),
    "test_init_params_is_reproducible_with_a_seeded_generator": (  # the global RNG instead
        DRAW,
        "torch.randn(d_in, d_out, device=device) * s",
    ),
    "test_init_params_kaiming_variance": ("return 2 / d_in", "return 1 / d_in"),
    "test_init_params_xavier_variance": ("return 2 / (d_in + d_out)", "return 1 / (d_in + d_out)"),
    "test_init_params_draws_from_a_normal": (  # uniform on [-sqrt(3) s, sqrt(3) s]: the right variance
        DRAW,
        "(2 * torch.rand(d_in, d_out, generator=generator, device=device) - 1) * math.sqrt(3) * s",
    ),
    "test_mlp_forward_each_activation[relu]": ('"relu": relu,', '"relu": leaky_relu,'),
    "test_mlp_forward_each_activation[tanh]": ('"tanh": tanh,', '"tanh": sigmoid,'),
    "test_mlp_forward_each_activation[sigmoid]": ('"sigmoid": sigmoid,', '"sigmoid": tanh,'),
    "test_mlp_forward_each_activation[leaky_relu]": ('"leaky_relu": leaky_relu,', '"leaky_relu": relu,'),
    "test_mlp_forward_each_activation[elu]": ('"elu": elu,', '"elu": relu,'),
    "test_mlp_forward_last_layer_is_linear": (
        "return dense(h, W_out, b_out)",
        "return f(dense(h, W_out, b_out))",
    ),
    "test_mlp_forward_default_activation_is_relu": (
        'def mlp_forward(x: Tensor, params: Params, activation: str = "relu")',
        'def mlp_forward(x: Tensor, params: Params, activation: str = "tanh")',
    ),
    "test_predict_proba": (
        "return softmax(mlp_forward(x, params, activation))",
        "return softmax(mlp_forward(x, params))",  # the activation is not passed on
    ),
    "test_mse_loss": (  # the mean over the batch only, not over all elements
        "return ((y_hat - y) ** 2).mean()",
        "return ((y_hat - y) ** 2).sum() / len(y)",
    ),
    "test_mse_loss_at_large_magnitudes": (  # the square expanded: cancellation at 1e12
        "return ((y_hat - y) ** 2).mean()",
        "return (y_hat**2 - 2 * y_hat * y + y**2).mean()",
    ),
    "test_cross_entropy_matches_reference": (CROSS_ENTROPY, "-log_softmax(logits)[rows, y].sum()"),
    "test_cross_entropy_is_finite_at_1e4": (CROSS_ENTROPY, "-torch.log(softmax(logits))[rows, y].mean()"),
    "test_cross_entropy_rows_of_very_different_scale": (LOG_SOFTMAX_SHIFT, "shifted = z - z.amax()"),
}

# What the spec allows: library activations, other formulas within tolerance (tanh
# through the sigmoid, elu with exp - 1, softmax through logsumexp), logsumexp for the
# loss, torch.normal drawing the layers last to first, and a loop over layer indices.
VARIANT = """
import math

import torch
import torch.nn.functional as F

sigmoid = torch.sigmoid


def relu(z):
    return torch.maximum(z, torch.zeros_like(z))


def leaky_relu(z, alpha=0.01):
    return F.leaky_relu(z, negative_slope=alpha)


def tanh(z):
    return 2 * torch.sigmoid(2 * z) - 1


def elu(z, alpha=1.0):
    return torch.where(z > 0, z, alpha * (torch.exp(torch.clamp(z, max=0)) - 1))


def softmax(z):  # stable, but in float32 at 1e4 only to 5e-4: the tolerance allows for it
    return torch.exp(z - torch.logsumexp(z, dim=-1, keepdim=True))


def dense(x, W, b):
    return torch.addmm(b, x, W)


def init_params(sizes, init="kaiming", generator=None):
    device = None if generator is None else generator.device
    params = []
    for d_in, d_out in reversed(list(zip(sizes[:-1], sizes[1:]))):
        std = math.sqrt(2 / d_in if init == "kaiming" else 2 / (d_in + d_out))
        W = torch.normal(0.0, std, size=(d_in, d_out), generator=generator, device=device)
        params.insert(0, (W, torch.zeros(d_out, device=device)))
    return params


def mlp_forward(x, params, activation="relu"):
    f = globals()[activation]
    for i, (W, b) in enumerate(params):
        x = dense(x, W, b)
        if i < len(params) - 1:
            x = f(x)
    return x


def predict_proba(x, params, activation="relu"):
    return torch.softmax(mlp_forward(x, params, activation=activation), dim=1)


def mse_loss(y_hat, y):
    return F.mse_loss(y_hat, y)


def cross_entropy(logits, y):
    true = logits.gather(1, y[:, None]).squeeze(1)  # (n,)
    return (torch.logsumexp(logits, dim=1) - true).mean()
"""


# suites/a2/misconceptions.py's catalogue -> a notebook with exactly that misconception
MISCONCEPTIONS = {
    "softmax-no-max-shift": [(SOFTMAX_EXP, "e = torch.exp(z)")],
    "softmax-batch-max": [(SOFTMAX_EXP, "e = torch.exp(z - z.amax())")],
    "last-layer-activated": [("return dense(h, W_out, b_out)", "return f(dense(h, W_out, b_out))")],
    "tanh-overflows": [
        ("return torch.tanh(z)", "return (torch.exp(z) - torch.exp(-z)) / (torch.exp(z) + torch.exp(-z))"),
    ],
    "elu-overflows": [
        (
            "torch.where(z > 0, z, alpha * torch.expm1(z.clamp(max=0)))",
            "z * (z > 0) + alpha * (torch.exp(z) - 1) * (z <= 0)",
        ),
    ],
    "cross-entropy-sum": [(CROSS_ENTROPY, "-log_softmax(logits)[rows, y].sum()")],
    "cross-entropy-log-of-softmax": [(CROSS_ENTROPY, "-torch.log(softmax(logits))[rows, y].mean()")],
    "mse-mean-over-the-batch-only": [
        ("return ((y_hat - y) ** 2).mean()", "return ((y_hat - y) ** 2).sum() / y.shape[0]"),
    ],
    "init-lecun-variance": [("return 2 / d_in", "return 1 / d_in")],
}


class TestA2Suite(SuiteSelfTest):
    ASSIGNMENT, FULL_MARKS, MUTANTS, VARIANT = "a2", FULL_MARKS, MUTANTS, VARIANT
    MISCONCEPTIONS = MISCONCEPTIONS


# More stable forms the spec allows, written as students write them: masks that never
# meet an inf (relu), exp of -2|z| with the sign put back (tanh), library functions.
OTHER_STABLE_FORMS = {
    "def relu(z):\n    return torch.maximum(z, torch.zeros_like(z))": "def relu(z):\n    return z * (z > 0)",
    "def tanh(z):\n    return 2 * torch.sigmoid(2 * z) - 1": (
        "def tanh(z):\n    e = torch.exp(-2 * z.abs())\n    return torch.sign(z) * (1 - e) / (1 + e)"
    ),
    "return torch.where(z > 0, z, alpha * (torch.exp(torch.clamp(z, max=0)) - 1))": "return F.elu(z, alpha)",
    "def softmax(z):  # stable, but in float32 at 1e4 only to 5e-4: the tolerance allows for it\n"
    "    return torch.exp(z - torch.logsumexp(z, dim=-1, keepdim=True))": (
        "def softmax(z):\n    return torch.softmax(z, dim=-1)"
    ),
    "return F.mse_loss(y_hat, y)": "return torch.mean((y - y_hat) ** 2)",
}


def other_stable_forms() -> str:
    source = VARIANT
    for old, new in OTHER_STABLE_FORMS.items():
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


def test_other_stable_forms_get_full_marks_and_no_misconception(tmp_path, course):
    path = tmp_path / "stable.py"
    path.write_text(other_stable_forms())
    (result,) = grade([str(path)], assignment="a2", course=course)
    assert_full_marks(result, FULL_MARKS)
    assert named_misconceptions(result) == set() and probes_that_match("a2", other_stable_forms()) == []
