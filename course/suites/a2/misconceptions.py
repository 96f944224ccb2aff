"""a2's misconceptions: the forward pass's classic slips, each recognised by what it returns.

Each probe calls the student's function on inputs of its own and compares with
``reference.a2`` with one change (``changed``). Overflowing formulas give inf and nan
where the reference gives numbers, so those comparisons count nan as equal to nan:
the same nans in the same places are part of what the misconception returns.
"""

import importlib

import torch

from grader.testing import assert_tensor, extremes, randn
from grader.testing.misconceptions import Catalogue, changed
from reference.a2 import activations, layers, losses

softmax = importlib.import_module("reference.a2.softmax")  # the package's `softmax` is the function

CATALOGUE = Catalogue("a2")

DTYPES = [torch.float64, torch.float32]
TOLERANCE = {torch.float64: {"rtol": 1e-7, "atol": 1e-12}, torch.float32: {"rtol": 1e-5, "atol": 1e-6}}
SOFTMAX_SHIFT = "e = torch.exp(z - z.amax(dim=-1, keepdim=True))"
MEAN_CROSS_ENTROPY = "-log_softmax(logits)[rows, y].mean()"
HUGE_LOGITS = [[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 0.0]]


def same(got, expected: torch.Tensor, what: str) -> None:
    """``got`` is what the misconception returns: close, with nan where it has nan."""
    assert_tensor(got, expected, **TOLERANCE[expected.dtype], equal_nan=True, what=what)


def different_scales(dtype: torch.dtype, device) -> torch.Tensor:
    """Rows of scale 1e-3, 1 and 1e3, the largest logit 2e3: a shift by one row's max only."""
    scales = torch.tensor([[1e-3], [1.0], [1e3]], dtype=torch.float64)
    z = randn(torch.Generator().manual_seed(0), 3, 5) * scales  # (3, 5)
    z[2, 0] = 2e3
    return z.to(dtype=dtype, device=device)


@CATALOGUE.misconception(
    "softmax-no-max-shift",
    title="Softmax without subtracting the maximum",
    did="your softmax computes exp(z) of the logits as they are. exp overflows to inf from about 89 "
    "(float32) or 710 (float64) on, and inf / inf is nan; rows of very negative logits give 0 / 0.",
    asks="a softmax that is finite for logits as large as ±1e4: subtract each row's maximum first, "
    "exp(z - max(z)) / sum(exp(z - max(z))), which gives the same result without overflowing.",
    look="the first line of softmax, where exp is taken.",
    tests=["test_softmax_is_finite_at_1e4", "test_softmax_rows_of_very_different_scale"],
)
def softmax_no_max_shift(student, device, suite):
    naive = changed(softmax, (SOFTMAX_SHIFT, "e = torch.exp(z)")).softmax
    for dtype in DTYPES:
        z = torch.tensor(HUGE_LOGITS, dtype=dtype, device=device)
        same(student.softmax(z), naive(z), "softmax at ±1e4")


@CATALOGUE.misconception(
    "softmax-batch-max",
    title="Softmax shifted by the batch's maximum, not each row's",
    did="your softmax subtracts one maximum, that of the whole batch, from every row. A row whose "
    "logits are far below the batch's largest then underflows to 0 / 0 = nan.",
    asks="the softmax of each row on its own: subtract the maximum of each row (over the last dimension, "
    "keepdim=True), so every row keeps an exponent of 0.",
    look="the maximum softmax subtracts: its dim and keepdim.",
    tests=["test_softmax_rows_of_very_different_scale", "test_softmax_is_finite_at_1e4"],
)
def softmax_batch_max(student, device, suite):
    batch = changed(softmax, (SOFTMAX_SHIFT, "e = torch.exp(z - z.amax())")).softmax
    for dtype in DTYPES:
        z = different_scales(dtype, device)
        same(student.softmax(z), batch(z), "softmax of rows of scales 1e-3, 1 and 1e3")


@CATALOGUE.misconception(
    "last-layer-activated",
    title="The last layer activated",
    did="your mlp_forward applies the hidden activation to the last layer too, so its logits are "
    "squashed (tanh, sigmoid) or cut at 0 (relu).",
    asks="hidden layers apply dense then the activation; the last layer applies dense only, and its "
    "output, the logits, is returned as it is (softmax and the loss come later).",
    look="the end of mlp_forward: what happens after the last dense.",
    tests=[
        "test_mlp_forward_last_layer_is_linear",
        "test_mlp_forward_each_activation",
        "test_mlp_forward_default_activation_is_relu",
        "test_predict_proba",
    ],
)
def last_layer_activated(student, device, suite):
    activated = ("return dense(h, W_out, b_out)", "return f(dense(h, W_out, b_out))")
    forward = changed(layers, activated).mlp_forward
    g = torch.Generator().manual_seed(1)
    x = randn(g, 7, 6, device=device, scale=2.0)
    params = [(randn(g, a, b, device=device), randn(g, b, device=device) - 1.0) for a, b in [(6, 5), (5, 4)]]
    for activation in ("relu", "tanh"):
        same(student.mlp_forward(x, params, activation), forward(x, params, activation), "mlp_forward")


def naive_at_extremes(student, device, name: str, old: str, new: str) -> None:
    """The student's ``name`` returns what ``activations`` with ``old`` written as ``new`` does,
    at both signs of overflowing magnitudes."""
    naive = getattr(changed(activations, (old, new)), name)
    for dtype in DTYPES:
        z = extremes(dtype, device)
        same(getattr(student, name)(z), naive(z), f"{name} at ±[0 ... 1e4, max]")


@CATALOGUE.misconception(
    "tanh-overflows",
    title="tanh written with exps that overflow",
    did="your tanh is (exp(z) - exp(-z)) / (exp(z) + exp(-z)) as written: for |z| beyond about 89 "
    "(float32) or 710 (float64) an exp is inf and the result is nan, where tanh is ±1.",
    asks="tanh finite for every finite input: torch.tanh, or a form whose exps never overflow "
    "(exp(-2|z|) with the sign of z).",
    look="your tanh.",
    tests=["test_activation_at_extreme_inputs[tanh]"],
)
def tanh_overflows(student, device, suite):
    naive_at_extremes(
        student,
        device,
        "tanh",
        "return torch.tanh(z)",
        "return (torch.exp(z) - torch.exp(-z)) / (torch.exp(z) + torch.exp(-z))",
    )


@CATALOGUE.misconception(
    "elu-overflows",
    title="elu's branches multiplied by masks",
    did="your elu adds z * (z > 0) and alpha * (exp(z) - 1) * (z <= 0): for large positive z the "
    "unused branch is inf, and inf * 0 is nan.",
    asks="elu(z) = z for z > 0, alpha * (exp(z) - 1) otherwise, finite everywhere: choose between the "
    "branches with torch.where, and keep exp's argument at most 0 (z.clamp(max=0)).",
    look="your elu.",
    tests=["test_activation_at_extreme_inputs[elu]"],
)
def elu_overflows(student, device, suite):
    naive_at_extremes(
        student,
        device,
        "elu",
        "torch.where(z > 0, z, alpha * torch.expm1(z.clamp(max=0)))",
        "z * (z > 0) + alpha * torch.expm1(z) * (z <= 0)",
    )


@CATALOGUE.misconception(
    "cross-entropy-sum",
    title="Cross-entropy summed over the batch",
    did="your cross_entropy adds up the losses of the samples: it grows with the batch size.",
    asks="the mean over the batch of -log softmax(logits)[i, y_i].",
    look="the last step of cross_entropy: sum or mean.",
    tests=[
        "test_cross_entropy_matches_reference",
        "test_cross_entropy_is_finite_at_1e4",
        "test_cross_entropy_rows_of_very_different_scale",
    ],
)
def cross_entropy_sum(student, device, suite):
    summed = changed(losses, (MEAN_CROSS_ENTROPY, "-log_softmax(logits)[rows, y].sum()")).cross_entropy
    g = torch.Generator().manual_seed(2)
    for dtype in DTYPES:
        logits = randn(g, 8, 5, dtype=dtype, device=device, scale=2.0)
        y = torch.randint(5, (8,), generator=g).to(device)
        same(student.cross_entropy(logits, y), summed(logits, y), "cross_entropy")


@CATALOGUE.misconception(
    "cross-entropy-log-of-softmax",
    title="Cross-entropy as the log of the softmax",
    did="your cross_entropy takes torch.log of softmax's probabilities. A probability that underflows "
    "to 0 (the true class's logit far below the largest) gives log(0) = -inf, and the loss is inf.",
    asks="a cross-entropy finite for logits as large as ±1e4: compute log-softmax directly, "
    "z - max(z) - log(sum(exp(z - max(z)))) (or torch.logsumexp), never the log of a probability.",
    look="the line of cross_entropy that takes the log.",
    tests=["test_cross_entropy_is_finite_at_1e4", "test_cross_entropy_rows_of_very_different_scale"],
)
def cross_entropy_log_of_softmax(student, device, suite):
    log_of = (MEAN_CROSS_ENTROPY, "-torch.log(softmax(logits))[rows, y].mean()")
    loss = changed(losses, ("import log_softmax", "import log_softmax, softmax"), log_of).cross_entropy
    y = torch.tensor([2, 1, 0], device=device)
    for dtype in DTYPES:
        logits = torch.tensor(HUGE_LOGITS, dtype=dtype, device=device)
        same(student.cross_entropy(logits, y), loss(logits, y), "cross_entropy at ±1e4")


@CATALOGUE.misconception(
    "mse-mean-over-the-batch-only",
    title="MSE averaged over the samples only",
    did="your mse_loss divides the sum of squared errors by the number of samples, not by the number "
    "of elements: with several outputs per sample it is that many times too large.",
    asks="the mean over all elements of (y_hat - y) ** 2.",
    look="what mse_loss divides by.",
    tests=["test_mse_loss"],
)
def mse_mean_over_the_batch_only(student, device, suite):
    loss = changed(losses, ("return ((y_hat - y) ** 2).mean()", "return ((y_hat - y) ** 2).sum() / len(y)"))
    g = torch.Generator().manual_seed(3)
    y_hat, y = randn(g, 6, 3, device=device), randn(g, 6, 3, device=device)
    same(student.mse_loss(y_hat, y), loss.mse_loss(y_hat, y), "mse_loss")


@CATALOGUE.misconception(
    "init-lecun-variance",
    title="Kaiming initialisation with variance 1 / d_in",
    did="your init_params draws Kaiming weights with variance 1 / d_in (LeCun's), half the handout's.",
    asks="W ~ N(0, s^2) with s^2 = 2 / d_in for 'kaiming' (the 2 makes up for ReLU zeroing half the "
    "units); s is its square root.",
    look="the variance (or standard deviation) init_params uses for 'kaiming'.",
    tests=["test_init_params_kaiming_variance", "test_init_params_draws_from_a_normal"],
)
def init_lecun_variance(student, device, suite):
    sizes = [600, 400]
    generator = suite.seeded_generator(student, 0, device)
    (W,) = suite.init_weights(student, sizes, "init_params", generator=generator)
    lecun = changed(layers, ("return 2 / d_in", "return 1 / d_in"))._variance("kaiming", 600, 400)
    suite.assert_variance(W, lecun, "W of init_params([600, 400])")
