"""a3's misconceptions: the backward pass's classic slips, each recognised by the gradient it returns.

Each probe calls the student's backward on inputs of its own and compares with
``reference.a3`` with one change (``changed``), in float64.
"""

import torch

from grader.testing import assert_tensor, extremes, randn
from grader.testing.misconceptions import Catalogue, changed
from reference.a3 import activations, dense, losses, mlp

CATALOGUE = Catalogue("a3")

MLP_TESTS = [
    "test_mlp_loss_and_grads_gradient_check",
    "test_mlp_loss_and_grads_other_activations",
    "test_mlp_loss_and_grads_any_depth",
    "test_mlp_loss_and_grads_float32_keeps_dtype_and_inputs",
]
CE_BACKWARD = "return (softmax(logits) - onehot) / n"


def same(got, expected: torch.Tensor, what: str) -> None:
    """``got`` is what the misconception returns (nan where it has nan)."""
    rtol, atol = (1e-5, 1e-6) if expected.dtype == torch.float32 else (1e-7, 1e-10)
    assert_tensor(got, expected, rtol=rtol, atol=atol, equal_nan=True, what=what)


def draw(*shape: int, seed: int, device) -> torch.Tensor:
    return randn(torch.Generator().manual_seed(seed), *shape, device=device)


@CATALOGUE.misconception(
    "relu-derivative-at-zero-is-one",
    title="relu'(0) taken as 1",
    did="your relu_backward lets the gradient through where z is exactly 0 (z >= 0).",
    asks="relu'(z) is 1 for z > 0 and 0 otherwise, at exactly 0 too: the gradient passes only where z > 0.",
    look="the comparison in relu_backward.",
    tests=["test_relu_backward_at_zero_is_zero"],
)
def relu_derivative_at_zero_is_one(student, device, suite):
    z = draw(6, 7, seed=0, device=device)
    z[::2, 1:4] = 0.0
    dout = draw(6, 7, seed=1, device=device)
    backward = changed(activations, ("return dout * (z > 0)", "return dout * (z >= 0)")).relu_backward
    same(student.relu_backward(dout, z), backward(dout, z), "relu_backward at exact zeros")


@CATALOGUE.misconception(
    "db-not-summed",
    title="db not summed over the batch",
    did="your dense_backward returns db as the mean of dout over the batch, or dout itself, "
    "instead of its sum.",
    asks="b is added to every row of the batch, so its gradient collects every row's: db = dout summed "
    "over the batch dimension, shape (d_out,).",
    look="the line of dense_backward that computes db.",
    tests=[
        "test_dense_backward_gradient_check",
        "test_dense_backward_float32_keeps_dtype_and_inputs",
        *MLP_TESTS,
    ],
)
def db_not_summed(student, device, suite):
    dout, x = draw(6, 3, seed=2, device=device), draw(6, 5, seed=3, device=device)
    W = draw(5, 3, seed=4, device=device)
    _, _, db = student.dense_backward(dout, x, W)
    mean = changed(dense, ("db = dout.sum(dim=0)", "db = dout.mean(dim=0)")).dense_backward(dout, x, W)[2]
    if isinstance(db, torch.Tensor) and db.shape == dout.shape:
        same(db, dout, "db (not reduced at all)")
    else:
        same(db, mean, "db (the mean over the batch)")


@CATALOGUE.misconception(
    "cross-entropy-backward-not-divided-by-n",
    title="Cross-entropy's gradient not divided by the batch size",
    did="your cross_entropy_backward returns softmax(logits) - onehot(y): the gradient of the SUM of "
    "the samples' losses, n times too large.",
    asks="the gradient of cross_entropy, the MEAN over the batch: (softmax(logits) - onehot(y)) / n.",
    look="the end of cross_entropy_backward.",
    tests=[
        "test_cross_entropy_backward_gradient_check",
        "test_cross_entropy_backward_is_the_batch_mean",
        "test_cross_entropy_backward_at_extreme_logits",
        "test_cross_entropy_backward_float32_keeps_dtype_and_inputs",
        *MLP_TESTS,
    ],
)
def cross_entropy_backward_not_divided_by_n(student, device, suite):
    logits = draw(9, 4, seed=5, device=device)
    y = torch.randint(4, (9,), generator=torch.Generator().manual_seed(6)).to(device)
    summed = changed(losses, (CE_BACKWARD, "return softmax(logits) - onehot")).cross_entropy_backward
    same(student.cross_entropy_backward(logits, y), summed(logits, y), "cross_entropy_backward")


@CATALOGUE.misconception(
    "cross-entropy-backward-softmax-overflows",
    title="Softmax without the max shift in cross-entropy's gradient",
    did="your cross_entropy_backward computes the softmax as exp(logits) / sum(exp(logits)): for "
    "logits beyond about 89 (float32) or 710 (float64) that is inf / inf = nan.",
    asks="a gradient finite for logits as large as ±1e4: take the softmax with each row's maximum "
    "subtracted first (a2's stable softmax, which the handout gives you).",
    look="where cross_entropy_backward computes the probabilities.",
    tests=["test_cross_entropy_backward_at_extreme_logits"],
)
def cross_entropy_backward_softmax_overflows(student, device, suite):
    exps = "e = logits.exp()\n    return (e / e.sum(dim=1, keepdim=True) - onehot) / n"
    naive = changed(losses, (CE_BACKWARD, exps))
    logits = torch.tensor(
        [[1e4, -1e4, 0.0, 5.0], [3.0, -2.0, 1.0, -1e4], [1e4, 1e4 - 1.0, -5.0, 2.0]],
        dtype=torch.float64,
        device=device,
    )
    y = torch.tensor([1, 3, 0], device=device)
    same(student.cross_entropy_backward(logits, y), naive.cross_entropy_backward(logits, y), "at ±1e4")


@CATALOGUE.misconception(
    "sigmoid-derivative-of-the-input",
    title="sigmoid' computed from z instead of sigmoid(z)",
    did="your sigmoid_backward uses s * (1 - s) with s = z, the pre-activation, where s must be the "
    "sigmoid's output.",
    asks="sigmoid'(z) = s * (1 - s) with s = sigmoid(z): compute the forward value first.",
    look="what sigmoid_backward multiplies dout by.",
    tests=[
        "test_sigmoid_backward_gradient_check",
        "test_activation_backward_float32_keeps_dtype_and_inputs[sigmoid]",
        "test_mlp_loss_and_grads_gradient_check[sigmoid]",
    ],
)
def sigmoid_derivative_of_the_input(student, device, suite):
    z, dout = draw(6, 7, seed=7, device=device) * 3, draw(6, 7, seed=8, device=device)
    of_z = ("return dout * s * (1 - s)", "return dout * z * (1 - z)")
    backward = changed(activations, of_z).sigmoid_backward
    same(student.sigmoid_backward(dout, z), backward(dout, z), "sigmoid_backward")


@CATALOGUE.misconception(
    "derivative-at-the-activation-output",
    title="f' evaluated at the activation's output in the MLP",
    did="your mlp_loss_and_grads passes each hidden layer's output h = f(z) to the activation's "
    "backward, which expects the pre-activation z: f'(f(z)) in place of f'(z).",
    asks="keep each hidden layer's pre-activation z = x @ W + b from the forward pass and give it to "
    "the backward: dz = f_backward(dh, z).",
    look="the backward loop of mlp_loss_and_grads: which tensor goes to the activation's backward.",
    tests=MLP_TESTS,
)
def derivative_at_the_activation_output(student, device, suite):
    wrong = changed(
        mlp, ("dense_backward(f_backward(dh, z), x_in, W)", "dense_backward(f_backward(dh, f(z)), x_in, W)")
    ).mlp_loss_and_grads
    x, y, params = suite.mlp_problem(torch.Generator().manual_seed(9), [5, 7, 4, 3], "tanh", device)
    _, grads = student.mlp_loss_and_grads(x, y, params, "tanh")
    _, expected = wrong(x, y, params, "tanh")
    for (dW, db), (eW, eb) in zip(grads, expected, strict=True):
        same(dW, eW, "dW")
        same(db, eb, "db")


@CATALOGUE.misconception(
    "sigmoid-overflows",
    title="sigmoid written with an exp that overflows",
    did="your sigmoid_backward computes sigmoid(z) as exp(z) / (1 + exp(z)): beyond z of about 89 "
    "(float32) or 710 (float64) that is inf / inf = nan, where the derivative is 0.",
    asks="a derivative finite for every finite z: use the stable sigmoid (the handout's), which only "
    "takes exp of -|z|.",
    look="how sigmoid_backward gets sigmoid(z).",
    tests=["test_activation_backward_at_extreme_inputs[sigmoid]"],
)
def sigmoid_overflows(student, device, suite):
    exps = ("s = sigmoid(z)", "s = torch.exp(z) / (1 + torch.exp(z))")
    naive = changed(activations, exps).sigmoid_backward
    for dtype in (torch.float64, torch.float32):
        z = extremes(dtype, device)
        same(student.sigmoid_backward(torch.ones_like(z), z), naive(torch.ones_like(z), z), "at ±1e4")
