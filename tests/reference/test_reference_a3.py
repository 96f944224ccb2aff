"""a3: every hand-written gradient against torch.autograd, in float64.

Sizes are distinct and non-square (x (5, 3), W (3, 4)), so that a transposed
or summed-over-the-wrong-axis gradient fails on shape, not just on value.
"""

import pytest
import torch
import torch.nn.functional as F

from reference.a2 import cross_entropy, init_params, mlp_forward
from reference.a2.activations import ACTIVATIONS
from reference.a3 import (
    cross_entropy_backward,
    dense_backward,
    mlp_loss_and_grads,
    relu_backward,
    sigmoid_backward,
    tanh_backward,
)

DTYPES = [torch.float32, torch.float64]
TORCH_ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
}


def randn(*shape: int, dtype: torch.dtype = torch.float64, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def autograd(f, inputs, dout=None):
    """torch.autograd's gradients of `f(*inputs)` (weighted by `dout` if not a scalar)."""
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    return torch.autograd.grad(f(*leaves), leaves, dout)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_backward_matches_autograd(cmp, pure, dtype):
    x, W, b = randn(5, 3, dtype=dtype), randn(3, 4, dtype=dtype, seed=1), randn(4, dtype=dtype)
    dout = randn(5, 4, dtype=dtype, seed=2)
    dx, dW, db = pure(dense_backward, dout, x, W)
    tx, tW, tb = autograd(lambda x, W, b: x @ W + b, [x, W, b], dout)
    cmp("dx", dx, tx)
    cmp("dW", dW, tW)
    cmp("db", db, tb)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("backward", "forward"),
    [(relu_backward, torch.relu), (sigmoid_backward, torch.sigmoid), (tanh_backward, torch.tanh)],
    ids=["relu", "sigmoid", "tanh"],
)
def test_activation_backward_matches_autograd(cmp, pure, backward, forward, dtype):
    z, dout = 2 * randn(5, 4, dtype=dtype), randn(5, 4, dtype=dtype, seed=1)
    z[0, 0] = 0.0
    (expected,) = autograd(forward, [z], dout)
    cmp(backward.__name__, pure(backward, dout, z), expected)


def test_relu_derivative_at_zero_is_zero():
    z = torch.tensor([-1.0, 0.0, 1.0])
    assert relu_backward(torch.ones(3), z).tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_backward_matches_autograd(cmp, pure, dtype):
    logits, y = 3 * randn(6, 4, dtype=dtype), torch.tensor([0, 3, 1, 1, 2, 3])
    (expected,) = autograd(lambda z: F.cross_entropy(z, y), [logits])
    cmp("dlogits", pure(cross_entropy_backward, logits, y), expected)


def mlp_case(dtype):
    """x (7, 3) through layers 3 -> 5 -> 4 -> 6 with non-zero biases; labels in 0..5."""
    g = torch.Generator().manual_seed(0)
    params = [(W.to(dtype), b.to(dtype)) for W, b in init_params([3, 5, 4, 6], generator=g)]
    params = [(W, b + 0.1 * randn(*b.shape, dtype=dtype, seed=i)) for i, (W, b) in enumerate(params)]
    return randn(7, 3, dtype=dtype), torch.tensor([0, 5, 2, 2, 1, 4, 3]), params


def torch_mlp_loss(x, y, activation, *flat_params):
    """The same loss built from torch's pieces only, for autograd to differentiate."""
    *hidden, W_out, b_out = flat_params
    for W, b in zip(hidden[::2], hidden[1::2], strict=True):
        x = TORCH_ACTIVATIONS[activation](F.linear(x, W.T, b))
    return F.cross_entropy(F.linear(x, W_out.T, b_out), y)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))  # every name mlp_forward knows
def test_mlp_loss_and_grads_match_autograd(cmp, pure, activation, dtype):
    x, y, params = mlp_case(dtype)
    loss, grads = pure(mlp_loss_and_grads, x, y, params, activation)
    flat = [t for pair in params for t in pair]
    expected = autograd(lambda *ps: torch_mlp_loss(x, y, activation, *ps), flat)
    cmp("loss", loss, torch_mlp_loss(x, y, activation, *flat))
    cmp("loss vs a2", loss, cross_entropy(mlp_forward(x, params, activation), y))
    assert len(grads) == len(params)
    for i, (dW, db) in enumerate(grads):
        cmp(f"dW{i}", dW, expected[2 * i])
        cmp(f"db{i}", db, expected[2 * i + 1])


def test_mlp_loss_and_grads_default_to_relu_and_need_no_autograd(cmp):
    x, y, params = mlp_case(torch.float64)
    with torch.no_grad():  # any use of backward() or torch.autograd would fail in here
        loss, grads = mlp_loss_and_grads(x, y, params)
    relu_loss, relu_grads = mlp_loss_and_grads(x, y, params, "relu")
    cmp("loss", loss, relu_loss, atol=0)
    for (dW, db), (rW, rb) in zip(grads, relu_grads, strict=True):
        assert not dW.requires_grad and not db.requires_grad
        cmp("dW", dW, rW, atol=0)
        cmp("db", db, rb, atol=0)


def test_stays_on_the_input_device():
    # Meta tensors have a device and a dtype but no data: a tensor made on the CPU
    # by mistake and combined with them raises, as it would next to a CUDA tensor.
    meta = {"device": "meta", "dtype": torch.float64}
    x, W, z = torch.empty(5, 3, **meta), torch.empty(3, 4, **meta), torch.empty(5, 4, **meta)
    y = torch.zeros(5, dtype=torch.long, device="meta")
    params = [(W, torch.empty(4, **meta)), (torch.empty(4, 2, **meta), torch.empty(2, **meta))]
    outs = [*dense_backward(z, x, W), cross_entropy_backward(z, y)]
    outs += [f(z, z) for f in (relu_backward, sigmoid_backward, tanh_backward)]
    for name in sorted(ACTIVATIONS):
        loss, grads = mlp_loss_and_grads(x, y, params, name)
        outs += [loss, *(g for pair in grads for g in pair)]
    assert all(out.device.type == "meta" and out.dtype == torch.float64 for out in outs)
