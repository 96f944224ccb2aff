"""a4: each optimizer over several steps from a fresh state, against torch.optim or its formula.

Gradients are at least 0.5 in magnitude, far above sqrt(eps), so where eps
sits (inside or outside the square root) moves the result by less than 1e-7.
"""

import pytest
import torch
from torch import nn

from reference.a4 import SGD, Adam, Momentum, RMSProp

STEPS = 6


def gradients(seed=0):
    """STEPS float64 gradients of shape (3, 4), each entry of magnitude in [0.5, 1.5)."""
    g = torch.Generator().manual_seed(seed)
    signs = torch.randn(STEPS, 3, 4, generator=g, dtype=torch.float64).sign()
    return list(signs * (0.5 + torch.rand(STEPS, 3, 4, generator=g, dtype=torch.float64)))


def start():
    """The parameter's starting point, float64 (3, 4)."""
    return torch.randn(3, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def trajectory(make_optimizer, grads, p0):
    """The parameter after each step, feeding `grads` in turn as `.grad`."""
    p = p0.clone().requires_grad_()
    optimizer = make_optimizer([p])
    path = []
    for g in grads:
        optimizer.zero_grad()
        p.grad = g.clone()
        optimizer.step()
        path.append(p.detach().clone())
    return path


def cmp_paths(cmp, name, ours, theirs, atol=None):
    for t, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1):
        cmp(f"{name} step {t}", a, b, atol=atol)


def test_sgd_matches_torch_and_its_formula(cmp):
    grads, p0 = gradients(), start()
    ours = trajectory(lambda ps: SGD(ps, lr=0.1), grads, p0)
    cmp_paths(cmp, "SGD vs torch", ours, trajectory(lambda ps: torch.optim.SGD(ps, lr=0.1), grads, p0))
    cmp("SGD formula", ours[-1], p0 - 0.1 * sum(grads))


def test_sgd_default_lr_is_0_01(cmp):
    grads, p0 = gradients(), start()
    cmp_paths(cmp, "SGD", trajectory(SGD, grads, p0), trajectory(lambda ps: SGD(ps, 0.01), grads, p0))


@pytest.mark.parametrize("hyper", [{}, {"lr": 0.1, "beta": 0.5}], ids=["defaults", "custom"])
def test_momentum_is_the_lecture_average_of_gradients(cmp, hyper):
    grads, p0 = gradients(), start()
    ours = trajectory(lambda ps: Momentum(ps, **hyper), grads, p0)
    lr, beta = hyper.get("lr", 0.01), hyper.get("beta", 0.9)
    p, v = p0.clone(), torch.zeros_like(p0)
    for t, g in enumerate(grads):
        v = beta * v + (1 - beta) * g
        p = p - lr * v
        cmp(f"Momentum step {t + 1}", ours[t], p)
    cmp("Momentum first step", ours[0], p0 - lr * (1 - beta) * grads[0])


def test_momentum_is_not_pytorchs_form():
    grads, p0 = gradients(), start()
    ours = trajectory(lambda ps: Momentum(ps, lr=0.1, beta=0.9), grads, p0)
    torchs = trajectory(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), grads, p0)
    assert (ours[-1] - torchs[-1]).abs().max() > 1e-2


@pytest.mark.parametrize(("eps", "atol"), [(1e-8, 1e-7), (0.0, 1e-12)])
@pytest.mark.parametrize(("lr", "beta"), [(0.001, 0.9), (0.01, 0.8)])
def test_rmsprop_matches_torch(cmp, lr, beta, eps, atol):
    # torch adds eps outside the square root, we inside: equal for eps = 0, close otherwise.
    grads, p0 = gradients(), start()
    ours = trajectory(lambda ps: RMSProp(ps, lr=lr, beta=beta, eps=eps), grads, p0)
    torchs = trajectory(lambda ps: torch.optim.RMSprop(ps, lr=lr, alpha=beta, eps=eps), grads, p0)
    cmp_paths(cmp, "RMSProp", ours, torchs, atol)


def test_rmsprop_defaults(cmp):
    grads, p0 = gradients(), start()
    ours = trajectory(RMSProp, grads, p0)
    explicit = trajectory(lambda ps: RMSProp(ps, lr=0.001, beta=0.9, eps=1e-8), grads, p0)
    cmp_paths(cmp, "RMSProp", ours, explicit, atol=0)


@pytest.mark.parametrize(
    "hyper",
    [{}, {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}],
    ids=["defaults", "custom"],
)
def test_adam_matches_torch(cmp, hyper):
    grads, p0 = gradients(), start()
    ours = trajectory(lambda ps: Adam(ps, **hyper), grads, p0)
    betas = (hyper.get("beta1", 0.9), hyper.get("beta2", 0.999))
    torch_hyper = {"lr": hyper.get("lr", 0.001), "betas": betas, "eps": hyper.get("eps", 1e-8)}
    cmp_paths(cmp, "Adam", ours, trajectory(lambda ps: torch.optim.Adam(ps, **torch_hyper), grads, p0))


@pytest.mark.parametrize("make", [SGD, Momentum, RMSProp, Adam])
def test_step_skips_tensors_without_grad_and_keeps_state_per_tensor(cmp, make):
    # b has no gradient at step 1, so its own step 2 must equal a fresh optimizer's step 1.
    g_a, g_b = gradients(seed=0), gradients(seed=1)
    a, b = start().requires_grad_(), (2 * start()).requires_grad_()
    optimizer = make([a, b])
    a.grad = g_a[0].clone()
    optimizer.step()
    cmp("b without grad", b.detach(), 2 * start(), atol=0)
    a.grad, b.grad = g_a[1].clone(), g_b[0].clone()
    optimizer.step()
    cmp("a", a.detach(), trajectory(make, g_a[:2], start())[-1])
    cmp("b", b.detach(), trajectory(make, g_b[:1], 2 * start())[-1])


@pytest.mark.parametrize("make", [SGD, Momentum, RMSProp, Adam])
def test_zero_grad_sets_every_grad_to_none(make):
    ps = [start().requires_grad_(), start().requires_grad_()]
    ps[0].grad = torch.ones_like(ps[0])
    make(ps).zero_grad()
    assert all(p.grad is None for p in ps)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("make", [SGD, Momentum, RMSProp, Adam])
def test_step_updates_a_module_in_place_after_backward(cmp, make, dtype):
    # A real backward on a module's leaves (built from a generator of parameters).
    model = nn.Linear(3, 2).to(dtype)
    weight, storage = model.weight, model.weight.data_ptr()
    before = weight.detach().clone()
    optimizer = make(model.parameters())
    model(torch.ones(4, 3, dtype=dtype)).pow(2).mean().backward()
    grad = weight.grad.clone()
    optimizer.step()
    assert model.weight is weight and weight.data_ptr() == storage and weight.dtype == dtype
    assert not torch.equal(weight.detach(), before)
    cmp("grad untouched by step", weight.grad, grad, atol=0)


@pytest.mark.parametrize("make", [SGD, Momentum, RMSProp, Adam])
def test_state_lives_on_the_parameter_device(make):
    # Meta tensors have a device and a dtype but no data: state made on the CPU
    # by mistake and combined with them raises, as it would next to a CUDA tensor.
    p = torch.empty(3, 4, device="meta", dtype=torch.float64, requires_grad=True)
    optimizer = make([p])
    for _ in range(2):
        p.grad = torch.empty(3, 4, device="meta", dtype=torch.float64)
        optimizer.step()
    assert p.device.type == "meta" and p.dtype == torch.float64
