"""a2: every activation, softmax, loss and the MLP forward pass against torch's own."""

import math

import pytest
import torch
import torch.nn.functional as F

from reference.a2 import (
    cross_entropy,
    dense,
    elu,
    init_params,
    leaky_relu,
    mlp_forward,
    mse_loss,
    predict_proba,
    relu,
    softmax,
    tanh,
)

DTYPES = [torch.float32, torch.float64]

ACTIVATION_PAIRS = {  # name: (reference, torch)
    "relu": (relu, torch.relu),
    "leaky_relu": (leaky_relu, F.leaky_relu),
    "leaky_relu alpha=0.2": (lambda z: leaky_relu(z, alpha=0.2), lambda z: F.leaky_relu(z, 0.2)),
    "tanh": (tanh, torch.tanh),
    "elu": (elu, F.elu),
    "elu alpha=0.5": (lambda z: elu(z, alpha=0.5), lambda z: F.elu(z, alpha=0.5)),
}
TORCH_ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
}


def randn(*shape: int, dtype: torch.dtype = torch.float64, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def torch_mlp(x, params, activation):
    """The same MLP from torch's pieces: F.linear takes the weight as (d_out, d_in)."""
    *hidden, (W_out, b_out) = params
    for W, b in hidden:
        x = TORCH_ACTIVATIONS[activation](F.linear(x, W.T, b))
    return F.linear(x, W_out.T, b_out)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTIVATION_PAIRS))
def test_activation_matches_torch(cmp, pure, name, dtype):
    ours, theirs = ACTIVATION_PAIRS[name]
    z = 3 * randn(6, 7, dtype=dtype)
    z[0, :3] = torch.tensor([0.0, 1e4, -1e4])  # the kink, and saturation
    cmp(name, pure(ours, z), theirs(z))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_matches_torch_over_the_last_dim(cmp, pure, dtype):
    z = 5 * randn(2, 3, 5, dtype=dtype)
    p = pure(softmax, z)
    cmp("softmax", p, torch.softmax(z, dim=-1))
    cmp("row sums", p.sum(dim=-1), torch.ones(2, 3, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_is_finite_for_huge_logits(cmp, dtype):
    z = torch.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 0.0]], dtype=dtype)
    p = softmax(z)
    assert torch.isfinite(p).all(), p
    cmp("softmax at ±1e4", p, torch.softmax(z, dim=-1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_mse_loss_matches_torch(cmp, pure, dtype):
    y_hat, y = randn(4, 3, dtype=dtype), randn(4, 3, dtype=dtype, seed=1)
    cmp("mse_loss", pure(mse_loss, y_hat, y), F.mse_loss(y_hat, y))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_matches_torch(cmp, pure, dtype):
    logits, y = 3 * randn(6, 4, dtype=dtype), torch.tensor([0, 3, 1, 1, 2, 3])
    cmp("cross_entropy", pure(cross_entropy, logits, y), F.cross_entropy(logits, y))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_is_finite_for_huge_logits(cmp, dtype):
    # Row 0 puts all mass on class 0 but the label is 1: -log p = 2e4. Row 1 is right: 0.
    logits = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype)
    y = torch.tensor([1, 1])
    loss = cross_entropy(logits, y)
    assert torch.isfinite(loss) and loss.item() == 1e4
    cmp("cross_entropy at ±1e4", loss, F.cross_entropy(logits, y), atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_is_torch_linear(cmp, pure, dtype):
    x, W, b = randn(5, 3, dtype=dtype), randn(3, 4, dtype=dtype, seed=1), randn(4, dtype=dtype)
    cmp("dense", pure(dense, x, W, b), F.linear(x, W.T, b))


def test_init_params_shapes_zero_biases_and_default_dtype():
    params = init_params([3, 5, 2])
    assert [(W.shape, b.shape) for W, b in params] == [((3, 5), (5,)), ((5, 2), (2,))]
    assert all(W.dtype == b.dtype == torch.float32 for W, b in params)
    assert all(torch.equal(b, torch.zeros_like(b)) for _, b in params)


@pytest.mark.parametrize(("init", "std"), [("kaiming", math.sqrt(2 / 500)), ("xavier", 0.05)])
def test_init_params_scale(init, std):
    ((W, _),) = init_params([500, 300], init=init, generator=torch.Generator().manual_seed(0))
    # 150_000 draws: the sample std is within 0.2% of the truth at one sigma.
    assert W.std().item() == pytest.approx(std, rel=0.02)
    assert abs(W.mean().item()) < 4 * std / math.sqrt(W.numel())


def test_init_params_is_reproducible_through_the_generator():
    def draw(seed):
        return init_params([4, 3, 2], generator=torch.Generator().manual_seed(seed))

    same = zip(draw(0), draw(0), strict=True)
    assert all(torch.equal(W1, W2) for (W1, _), (W2, _) in same)
    assert not torch.equal(draw(0)[0][0], draw(1)[0][0])


def test_init_params_rejects_an_unknown_init():
    with pytest.raises(ValueError, match="he"):
        init_params([2, 2], init="he")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", sorted(TORCH_ACTIVATIONS))
def test_mlp_forward_and_predict_proba_match_torch(cmp, pure, activation, dtype):
    g = torch.Generator().manual_seed(0)
    params = [(W.to(dtype), b.to(dtype)) for W, b in init_params([3, 5, 4, 6], generator=g)]
    params = [(W, b + 0.1 * randn(*b.shape, dtype=dtype)) for W, b in params]  # non-zero biases
    x = randn(7, 3, dtype=dtype)
    expected = torch_mlp(x, params, activation)
    cmp(f"mlp_forward {activation}", pure(mlp_forward, x, params, activation), expected)
    proba = pure(predict_proba, x, params, activation)
    cmp(f"predict_proba {activation}", proba, torch.softmax(expected, dim=-1))


def test_mlp_forward_defaults_to_relu_and_rejects_unknown_names(cmp):
    params = init_params([3, 4, 2], generator=torch.Generator().manual_seed(0))
    x = randn(5, 3, dtype=torch.float32)
    cmp("default activation", mlp_forward(x, params), mlp_forward(x, params, "relu"), atol=0)
    with pytest.raises(ValueError, match="swish"):
        mlp_forward(x, params, "swish")


def test_stays_on_the_input_device():
    # Meta tensors have a device and a dtype but no data: a tensor made on the CPU
    # by mistake and combined with them raises, as it would next to a CUDA tensor.
    meta = {"device": "meta", "dtype": torch.float64}
    x, y = torch.empty(5, 3, **meta), torch.zeros(5, dtype=torch.long, device="meta")
    params = [
        (torch.empty(3, 4, **meta), torch.empty(4, **meta)),
        (torch.empty(4, 2, **meta), torch.empty(2, **meta)),
    ]
    outs = [f(x) for f in (relu, leaky_relu, tanh, elu, softmax)]
    outs += [mse_loss(x, x), cross_entropy(x, y), dense(x, *params[0])]
    outs += [mlp_forward(x, params, name) for name in sorted(TORCH_ACTIVATIONS)]
    outs += [predict_proba(x, params)]
    assert all(out.device.type == "meta" and out.dtype == torch.float64 for out in outs)
