"""Hidden suite for a3, backpropagation by hand (32 points).

Every gradient is checked twice, in float64, on every element:
  * against the reference (``reference.a3``, run here on the trusted side);
  * against central differences (h = 1e-5) of the student's OWN forward pass, which
    runs in the worker (``student.dense``, ``student.relu``, ``student.cross_entropy``,
    ``student.mlp_forward``): a backward must be the derivative of the forward it
    sits beside.
Both pass at ``allclose(rtol=1e-5, atol=1e-7)``. All sizes differ (n, d_in, the hidden
sizes, the classes), so a transpose or a sum over the wrong axis fails on shape.
Pre-activations stay well away from the kinks at 0, so that no difference quotient
straddles one. Then float32 calls check that dtype and device are kept and that the
inputs come back unchanged.

Autograd is banned twice over. Each test first reads the submission's source for the
graded names it checks (``assert_no_autograd``), which costs exactly those tests'
points, with a message that says where. And every call into the worker runs under
``torch.no_grad()`` with autograd's engine and forward mode refused (the autouse fixture
below, ``grader/sandbox/child/autograd_guard.py``): autograd hidden from the reading, even behind
``torch.enable_grad()`` or a name computed at run time, fails the call.
"""

import pytest
import torch

from grader.testing import (
    assert_finite_where_expected,
    assert_gradient,
    assert_no_autograd,
    assert_scalar,
    assert_tensor,
    assert_unchanged,
    away_from_kinks,
    extremes,
    numerical_gradient,
    randn,
)
from grader.testing.gradients import H
from reference import a3 as ref
from reference.a2.activations import get_activation
from reference.a2.layers import dense

REFERENCE = "the reference"
KINK_MARGIN = 10 * H  # an input moved by h never crosses a kink 10 h away
RTOL32, ATOL32 = 1e-5, 1e-6

N, D_IN, D_OUT, C = 6, 5, 3, 4  # a batch, a dense layer, the classes: all different
Z_SHAPE = (N, 7)  # pre-activations for the elementwise backwards
MLP_N, MLP_SIZES = 8, [5, 7, 4, 3]  # two hidden layers, every size different from the batch
HIDDEN_MARGIN = 100 * H  # see mlp_problem


AUTOGRAD_RULE = (
    "Graded a3 code runs under torch.no_grad(): autograd (backward(), torch.autograd, "
    "requires_grad) is not allowed in this assignment; compute the gradients by hand."
)


@pytest.fixture(autouse=True)
def calls_refuse_autograd(student):
    """The ban's second line: in the worker, each call runs under torch.no_grad() with
    autograd refused whatever name reaches it (a refusal the call catches still fails it)."""
    with student.no_autograd(explain=AUTOGRAD_RULE):
        yield


def own(forward: str) -> str:
    return f"finite differences of your own forward ({forward})"


def labels(rng, n, n_classes, device):
    return torch.randint(n_classes, (n,), generator=rng).to(device)


def unpack(result, count, what):
    """``result`` as a list of ``count`` items, or a failure that says what came back."""
    if isinstance(result, (tuple, list)) and len(result) == count:
        return list(result)
    got = f"{len(result)} values" if isinstance(result, (tuple, list)) else f"a {type(result).__name__}"
    raise AssertionError(f"{what} must return {count} values, got {got}")


def numerical_gradients(f, tensors):
    """``d f(*tensors) / d tensors[i]`` for every ``i``, each with the other tensors fixed."""

    def with_replaced(i):
        return lambda t: f(*tensors[:i], t, *tensors[i + 1 :])

    return [numerical_gradient(with_replaced(i), t) for i, t in enumerate(tensors)]


# ----------------------------------------------------------------- dense_backward


@pytest.mark.points(3)
def test_dense_backward_gradient_check(student, rng, device):
    assert_no_autograd(student, "dense_backward")
    x = randn(rng, N, D_IN, device=device)
    W = randn(rng, D_IN, D_OUT, device=device)
    b = randn(rng, D_OUT, device=device)
    dout = randn(rng, N, D_OUT, device=device)
    got = unpack(student.dense_backward(dout, x, W), 3, "dense_backward(dout, x, W)")
    for name, g, expected in zip(("dx", "dW", "db"), got, ref.dense_backward(dout, x, W), strict=True):
        assert_gradient(g, expected, what=name, against=REFERENCE)
    numeric = numerical_gradients(lambda x, W, b: (student.dense(x, W, b) * dout).sum(), [x, W, b])
    for name, g, expected in zip(("dx", "dW", "db"), got, numeric, strict=True):
        assert_gradient(g, expected, what=name, against=own("dense"))


@pytest.mark.points(1)
def test_dense_backward_float32_keeps_dtype_and_inputs(student, rng, device):
    assert_no_autograd(student, "dense_backward")
    dout, x, W = (
        randn(rng, *shape, dtype=torch.float32, device=device)
        for shape in [(N, D_OUT), (N, D_IN), (D_IN, D_OUT)]
    )
    sent = [student.put(t) for t in (dout, x, W)]
    got = unpack(student.dense_backward(*sent), 3, "dense_backward(dout, x, W)")
    expected = ref.dense_backward(dout.double(), x.double(), W.double())
    for name, g, e in zip(("dx", "dW", "db"), got, expected, strict=True):
        assert_tensor(g, e.float(), rtol=RTOL32, atol=ATOL32, what=f"{name} for float32 inputs")
    for name, before, remote in zip(("dout", "x", "W"), (dout, x, W), sent, strict=True):
        assert_unchanged(before, remote.fetch(), name)


# ----------------------------------------------------------------- activations


def check_activation_backward(student, rng, device, name, z):
    """``name_backward(dout, z)`` against the reference and against d/dz of
    ``sum(name(z) * dout)``, whose gradient is exactly ``dout * f'(z)``."""
    dout = randn(rng, *z.shape, device=device)
    got = getattr(student, f"{name}_backward")(dout, z)
    what = f"{name}_backward(dout, z)"
    assert_gradient(got, getattr(ref, f"{name}_backward")(dout, z), what=what, against=REFERENCE)
    forward = getattr(student, name)
    numeric = numerical_gradient(lambda t: (forward(t) * dout).sum(), z)
    assert_gradient(got, numeric, what=what, against=own(name))


@pytest.mark.points(2)
def test_relu_backward_gradient_check(student, rng, device):
    assert_no_autograd(student, "relu_backward")
    z = away_from_kinks(randn(rng, *Z_SHAPE, scale=2.0, device=device), KINK_MARGIN)
    check_activation_backward(student, rng, device, "relu", z)


@pytest.mark.points(1)
def test_relu_backward_at_zero_is_zero(student, rng, device):
    assert_no_autograd(student, "relu_backward")
    z = randn(rng, *Z_SHAPE, device=device)
    z[::2, 1:4] = 0.0
    dout = randn(rng, *Z_SHAPE, device=device)
    got = student.relu_backward(dout, z)
    assert_tensor(
        got,
        ref.relu_backward(dout, z),
        what="relu_backward(dout, z) where z has exact zeros (relu'(0) is 0 by this course's convention)",
    )


@pytest.mark.points(2)
def test_sigmoid_backward_gradient_check(student, rng, device):
    assert_no_autograd(student, "sigmoid_backward")
    check_activation_backward(student, rng, device, "sigmoid", randn(rng, *Z_SHAPE, scale=3.0, device=device))


@pytest.mark.points(2)
def test_tanh_backward_gradient_check(student, rng, device):
    assert_no_autograd(student, "tanh_backward")
    check_activation_backward(student, rng, device, "tanh", randn(rng, *Z_SHAPE, scale=2.0, device=device))


@pytest.mark.points(1)
@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activation_backward_float32_keeps_dtype_and_inputs(student, rng, device, name):
    assert_no_autograd(student, f"{name}_backward")
    z = away_from_kinks(randn(rng, *Z_SHAPE, scale=2.0), KINK_MARGIN).to(torch.float32).to(device)
    dout = randn(rng, *Z_SHAPE, dtype=torch.float32, device=device)
    sent_dout, sent_z = student.put(dout), student.put(z)
    got = getattr(student, f"{name}_backward")(sent_dout, sent_z)
    expected = getattr(ref, f"{name}_backward")(dout.double(), z.double()).float()
    assert_tensor(got, expected, rtol=RTOL32, atol=ATOL32, what=f"{name}_backward for float32 inputs")
    assert_unchanged(dout, sent_dout.fetch(), "dout")
    assert_unchanged(z, sent_z.fetch(), "z")


@pytest.mark.points(1)
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_activation_backward_at_extreme_inputs(student, device, name):
    # exp(z) overflows from 89 on in float32 and 710 on in float64: f'(z) through
    # exp(z) / (1 + exp(z)) or a tanh made of exps is inf / inf = nan there, not 0.
    assert_no_autograd(student, f"{name}_backward")
    for dtype, rtol, atol in [(torch.float64, 1e-5, 1e-7), (torch.float32, RTOL32, ATOL32)]:
        z = extremes(dtype, device)
        dout = torch.ones_like(z)
        got = getattr(student, f"{name}_backward")(dout, z)
        expected = getattr(ref, f"{name}_backward")(dout.double(), z.double()).to(dtype)
        largest = torch.finfo(dtype).max
        what = f"{name}_backward(ones, z) for {dtype} z = ±[0, 1, 30, 100, 800, 1e4, {largest:.4g}]"
        assert_finite_where_expected(got, expected, z, what=what)
        assert_tensor(got, expected, rtol=rtol, atol=atol, what=what)


# ----------------------------------------------------------------- cross_entropy_backward


@pytest.mark.points(2)
def test_cross_entropy_backward_gradient_check(student, rng, device):
    assert_no_autograd(student, "cross_entropy_backward")
    logits, y = randn(rng, N, C, scale=2.0, device=device), labels(rng, N, C, device)
    got = student.cross_entropy_backward(logits, y)
    assert_gradient(got, ref.cross_entropy_backward(logits, y), what="dlogits", against=REFERENCE)
    numeric = numerical_gradient(lambda t: student.cross_entropy(t, y), logits)
    assert_gradient(got, numeric, what="dlogits", against=own("cross_entropy"))


@pytest.mark.points(1)
def test_cross_entropy_backward_is_the_batch_mean(student, rng, device):
    assert_no_autograd(student, "cross_entropy_backward")
    n = 9
    logits, y = randn(rng, n, C, device=device), labels(rng, n, C, device)
    got = student.cross_entropy_backward(logits, y)
    expected = ref.cross_entropy_backward(logits, y)
    if (
        isinstance(got, torch.Tensor)
        and got.shape == expected.shape
        and got.dtype == expected.dtype
        and torch.allclose(got, n * expected, rtol=1e-5, atol=1e-7)
    ):
        raise AssertionError(
            f"cross_entropy_backward for a batch of {n}: this is the gradient of the SUM of the "
            f"per-sample losses, {n} times too large; cross_entropy is their MEAN, so divide by n"
        )
    assert_gradient(got, expected, what=f"dlogits for a batch of {n}", against=REFERENCE)


EXTREME_LOGITS = [
    [1e4, -1e4, 0.0, 5.0],
    [-1e4, 1e4, -1e4, 1e4],  # a tie of two huge logits: probabilities 0.5 and 0.5
    [3.0, -2.0, 1.0, -1e4],  # the true class's probability underflows to 0
    [1e4, 1e4 - 1.0, -5.0, 2.0],
    [-1e4, -1e4, -1e4, -1e4 + 2.0],
]
EXTREME_LABELS = [1, 3, 3, 0, 2]


@pytest.mark.points(2)
def test_cross_entropy_backward_at_extreme_logits(student, device):
    assert_no_autograd(student, "cross_entropy_backward")
    y = torch.tensor(EXTREME_LABELS, device=device)
    for dtype, rtol, atol in [(torch.float64, 1e-5, 1e-7), (torch.float32, RTOL32, ATOL32)]:
        logits = torch.tensor(EXTREME_LOGITS, dtype=dtype, device=device)
        got = student.cross_entropy_backward(logits, y)
        what = f"cross_entropy_backward for {dtype} logits as large as ±1e4"
        if isinstance(got, torch.Tensor) and not bool(torch.isfinite(got).all()):
            raise AssertionError(f"{what}: the gradient holds inf or nan (use the given, stable softmax)")
        expected = ref.cross_entropy_backward(logits.double(), y).to(dtype)
        assert_tensor(got, expected, rtol=rtol, atol=atol, what=what)


@pytest.mark.points(1)
def test_cross_entropy_backward_float32_keeps_dtype_and_inputs(student, rng, device):
    assert_no_autograd(student, "cross_entropy_backward")
    logits = randn(rng, N, C, scale=2.0, dtype=torch.float32, device=device)
    y = labels(rng, N, C, device)
    sent_logits, sent_y = student.put(logits), student.put(y)
    got = student.cross_entropy_backward(sent_logits, sent_y)
    expected = ref.cross_entropy_backward(logits.double(), y).float()
    assert_tensor(got, expected, rtol=RTOL32, atol=ATOL32, what="dlogits for float32 logits")
    assert_unchanged(logits, sent_logits.fetch(), "logits")
    assert_unchanged(y, sent_y.fetch(), "y")


# ----------------------------------------------------------------- mlp_loss_and_grads


def mlp_problem(rng, sizes, activation, device, n=MLP_N):
    """``x``, ``y`` and ``params`` whose every hidden pre-activation is at least
    ``HIDDEN_MARGIN`` (100 h) from the kink at 0.

    Perturbing one weight by h moves the pre-activations of every later layer too, by
    h times the weights on the way, so the margin is ten times the elementwise tests'.
    Draws are repeated (from the same seeded generator) until the margin holds.
    """
    for _ in range(100):
        x = randn(rng, n, sizes[0], device=device)
        params = [
            (
                randn(rng, d_in, d_out, scale=d_in**-0.5, device=device),
                randn(rng, d_out, scale=0.5, device=device),
            )
            for d_in, d_out in zip(sizes[:-1], sizes[1:], strict=True)
        ]
        if min_hidden_preactivation(x, params, activation) >= HIDDEN_MARGIN:
            return x, labels(rng, n, sizes[-1], device), params
    raise RuntimeError("hidden test bug: no draw kept the hidden pre-activations away from 0")


def min_hidden_preactivation(x, params, activation):
    f, h, smallest = get_activation(activation), x, float("inf")
    for W, b in params[:-1]:
        z = dense(h, W, b)
        smallest = min(smallest, float(z.abs().min()))
        h = f(z)
    return smallest


def unpack_mlp(result, n_layers, what):
    """``(loss, [(dW, db), ...])`` from what ``mlp_loss_and_grads`` returned."""
    loss, grads = unpack(result, 2, what)
    grads = unpack(grads, n_layers, f"{what}: grads (one (dW, db) per layer)")
    return loss, [unpack(pair, 2, f"{what}: grads[{i}], the pair (dW, db)") for i, pair in enumerate(grads)]


def check_mlp(student, x, y, params, activation):
    """Loss and every (dW, db) against the reference, then every element of every gradient
    against central differences of the student's own ``mlp_forward`` and ``cross_entropy``."""
    sizes = [params[0][0].shape[0], *(W.shape[1] for W, _ in params)]
    what = f"mlp_loss_and_grads(activation={activation!r}, sizes={sizes})"
    loss, grads = unpack_mlp(student.mlp_loss_and_grads(x, y, params, activation), len(params), what)
    ref_loss, ref_grads = ref.mlp_loss_and_grads(x, y, params, activation)
    assert_scalar(loss, ref_loss.item(), what=f"{what}: the loss (compared with {REFERENCE})")
    for layer, (got, expected) in enumerate(zip(grads, ref_grads, strict=True), start=1):
        for name, g, e in zip(("dW", "db"), got, expected, strict=True):
            assert_gradient(g, e, what=f"{what}: {name} of layer {layer}", against=REFERENCE)

    def loss_with(layer, which):
        def f(t):
            changed = [list(pair) for pair in params]
            changed[layer][which] = t
            logits = student.mlp_forward(x, [tuple(pair) for pair in changed], activation)
            return student.cross_entropy(logits, y)

        return f

    for layer, (got, pair) in enumerate(zip(grads, params, strict=True)):
        for which, (name, g, t) in enumerate(zip(("dW", "db"), got, pair, strict=True)):
            assert_gradient(
                g,
                numerical_gradient(loss_with(layer, which), t),
                what=f"{what}: {name} of layer {layer + 1}",
                against=own("mlp_forward, cross_entropy"),
            )


@pytest.mark.points(2)
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_loss_and_grads_gradient_check(student, rng, device, activation):
    assert_no_autograd(student, "mlp_loss_and_grads")
    x, y, params = mlp_problem(rng, MLP_SIZES, activation, device)
    check_mlp(student, x, y, params, activation)


@pytest.mark.points(1)
@pytest.mark.parametrize("activation", ["leaky_relu", "elu"])
def test_mlp_loss_and_grads_other_activations(student, rng, device, activation):
    assert_no_autograd(student, "mlp_loss_and_grads")
    x, y, params = mlp_problem(rng, MLP_SIZES, activation, device)
    check_mlp(student, x, y, params, activation)


@pytest.mark.points(1)
def test_mlp_loss_and_grads_any_depth(student, rng, device):
    assert_no_autograd(student, "mlp_loss_and_grads")
    for sizes in ([5, 3], [5, 7, 3], [5, 7, 6, 4, 3]):  # no hidden layer, one, three
        x, y, params = mlp_problem(rng, sizes, "relu", device)
        check_mlp(student, x, y, params, "relu")


@pytest.mark.points(1)
def test_mlp_loss_and_grads_float32_keeps_dtype_and_inputs(student, rng, device):
    assert_no_autograd(student, "mlp_loss_and_grads")
    x, y, params = mlp_problem(rng, MLP_SIZES, "tanh", device)
    x32, params32 = x.float(), [(W.float(), b.float()) for W, b in params]
    x64, params64 = x32.double(), [(W.double(), b.double()) for W, b in params32]  # what float32 holds
    sent_x, sent_y, sent_params = student.put(x32), student.put(y), student.put(params32)
    what = "mlp_loss_and_grads for float32 inputs"
    result = student.mlp_loss_and_grads(sent_x, sent_y, sent_params, "tanh")
    loss, grads = unpack_mlp(result, len(params), what)
    ref_loss, ref_grads = ref.mlp_loss_and_grads(x64, y, params64, "tanh")
    assert_tensor(loss, ref_loss.float(), rtol=RTOL32, atol=ATOL32, what=f"{what}: the loss")
    for layer, (got, expected) in enumerate(zip(grads, ref_grads, strict=True), start=1):
        for name, g, e in zip(("dW", "db"), got, expected, strict=True):
            assert_tensor(g, e.float(), rtol=RTOL32, atol=ATOL32, what=f"{what}: {name} of layer {layer}")
    assert_unchanged(x32, sent_x.fetch(), "x")
    assert_unchanged(y, sent_y.fetch(), "y")
    for layer, ((W, b), (W_after, b_after)) in enumerate(zip(params32, sent_params.fetch(), strict=True), 1):
        assert_unchanged(W, W_after, f"W of layer {layer}")
        assert_unchanged(b, b_after, f"b of layer {layer}")
