"""Hidden suite for a4, the optimizers (24 points).

The student's optimizer lives in the worker and is driven through ``Remote``s: the
parameters are sent there, each step sets their ``.grad`` and calls ``step()``, and
the parameters are fetched back after every step (a whole trajectory in one round
trip, ``OptimizerPair.run``). The same inputs drive ``reference.a4`` here, on the
trusted side. Gradients have magnitudes 0.1 to 10, far
above ``sqrt(eps)``, so every allowed placement of ``eps`` (inside or outside the
square root, or folded into the step size) is within ``RTOL`` of the reference.
"""

import pytest
import torch

from grader.testing import OptimizerPair, assert_tensor
from reference.a4 import optimizers as ref

RTOL, ATOL = 1e-5, 1e-6
STEPS = 6
SHAPES = [(3, 4), (5,), (2, 3, 2)]
HYPER = {
    "SGD": {"lr": 0.1},
    "Momentum": {"lr": 0.05, "beta": 0.8},
    "RMSProp": {"lr": 0.01, "beta": 0.95, "eps": 1e-8},
    "Adam": {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8},
}


def randn(rng, shape, dtype=torch.float64, device="cpu"):
    return torch.randn(shape, generator=rng, dtype=torch.float64).to(dtype=dtype, device=device)


def gradient(rng, shape, dtype=torch.float64, device="cpu"):
    """Random signs, magnitudes log-uniform in [0.1, 10]: far larger than sqrt(eps)."""
    magnitude = 10 ** (2 * torch.rand(shape, generator=rng, dtype=torch.float64) - 1)
    sign = torch.where(torch.rand(shape, generator=rng) < 0.5, -1.0, 1.0).double()
    return (sign * magnitude).to(dtype=dtype, device=device)


def pair_of(student, name, tensors, **kwargs):
    return OptimizerPair(student, name, tensors, reference=getattr(ref, name), rtol=RTOL, atol=ATOL, **kwargs)


def trajectory(student, rng, name, device, dtype=torch.float64, shapes=SHAPES, **kwargs):
    tensors = [randn(rng, s, dtype, device) for s in shapes]
    pair = pair_of(student, name, tensors, **kwargs)
    pair.run([[gradient(rng, s, dtype, device) for s in shapes] for _ in range(STEPS)])
    return pair


# ----------------------------------------------------------------- trajectories


@pytest.mark.points(2)
def test_sgd_trajectory(student, rng, device):
    trajectory(student, rng, "SGD", device, **HYPER["SGD"])


@pytest.mark.points(2)
def test_momentum_trajectory(student, rng, device):
    trajectory(student, rng, "Momentum", device, **HYPER["Momentum"])


@pytest.mark.points(2)
def test_momentum_is_the_lecture_average(student, rng, device):
    lr, beta = 0.1, 0.9
    p0, g = randn(rng, (6,), device=device), gradient(rng, (6,), device=device)
    p = student.put(p0.clone())
    opt = student.keep("Momentum", [p], lr=lr, beta=beta)

    def step() -> torch.Tensor:  # p after one step with the gradient g
        return student.batch([p.setting("grad", g.clone()), opt.calling("step"), p.fetching()])[-1]

    after = step()
    moved = p0 - after
    if torch.allclose(moved, lr * g, rtol=1e-4):
        raise AssertionError(
            "Momentum: the first step was lr * g; with v starting at 0 the lecture's form "
            "v = beta * v + (1 - beta) * g; p -= lr * v gives (1 - beta) * lr * g. "
            "PyTorch's v = beta * v + g and the classical v = mu * v - lr * g are not the lecture's form."
        )
    assert_tensor(
        moved,
        (1 - beta) * lr * g,
        rtol=RTOL,
        atol=ATOL,
        what="Momentum(lr=0.1, beta=0.9): the first step p_before - p_after, expected (1 - beta) * lr * g",
    )
    for t in range(2, 8):  # a constant gradient: v tends to g, the step to lr * g
        before, after = after, step()
        assert_tensor(
            before - after,
            (1 - beta**t) * lr * g,
            rtol=1e-4,
            atol=ATOL,
            what=f"Momentum(lr=0.1, beta=0.9) with a constant gradient g: step {t}, "
            f"expected (1 - beta**{t}) * lr * g",
        )


@pytest.mark.points(2)
def test_rmsprop_trajectory(student, rng, device):
    trajectory(student, rng, "RMSProp", device, **HYPER["RMSProp"])


@pytest.mark.points(3)
def test_adam_trajectory(student, rng, device):
    trajectory(student, rng, "Adam", device, **HYPER["Adam"])


# ----------------------------------------------------------------- state, None, zero_grad


@pytest.mark.points(2)
def test_state_is_kept_per_tensor(student, rng, device):
    # Two tensors of the same shape whose gradients differ tenfold in size: state
    # shared between them, or kept per shape, gives other numbers.
    shapes = [(4, 3), (4, 3), (7,)]
    for name in ("Momentum", "RMSProp", "Adam"):
        tensors = [randn(rng, s, device=device) for s in shapes]
        pair = pair_of(student, name, tensors, **HYPER[name])
        steps = []
        for _ in range(STEPS):
            grads = [gradient(rng, s, device=device) for s in shapes]
            steps.append([grads[0] * 10, grads[1], grads[2]])
        pair.run(steps)


@pytest.mark.points(2)
def test_none_grad_is_skipped(student, rng, device):
    # Tensor 1 has a gradient for two steps, then None: it must stay where it is
    # (no update with a zero gradient, which would still move it under momentum).
    # Tensor 2 never has a gradient.
    for name in ("SGD", "Momentum", "RMSProp", "Adam"):
        tensors = [randn(rng, s, device=device) for s in SHAPES]
        pair = pair_of(student, name, tensors, **HYPER[name])
        steps, skips = [], []
        for step in range(STEPS):
            grads = [gradient(rng, s, device=device) for s in SHAPES]
            grads[2] = None
            if step >= 2:
                grads[1] = None
            steps.append(grads)
            skips.append({2} if step < 2 else {1, 2})
        pair.run(steps, skips)


@pytest.mark.points(2)
def test_zero_grad(student, rng, device):
    for name in ("SGD", "Momentum", "RMSProp", "Adam"):
        tensors = [randn(rng, s, device=device) for s in SHAPES]
        pair = pair_of(student, name, tensors, **HYPER[name])
        pair.opt.call("zero_grad")  # before any gradient exists, as a training loop does
        for _round in range(2):
            steps = [[gradient(rng, s, device=device) for s in SHAPES] for _ in range(3)]
            for grads in steps:
                grads[2] = None
            pair.run(steps, [{2}] * len(steps))
            reads = [remote.getting("grad") for remote in pair.remotes]
            _, *grads = student.batch([pair.opt.calling("zero_grad"), *reads])
            pair.ref.zero_grad()
            for i, g in enumerate(grads):
                ok = g is None or (isinstance(g, torch.Tensor) and not bool(g.any()))
                shown = g.flatten()[:6].tolist() if isinstance(g, torch.Tensor) else g
                assert ok, f"{pair.what}: after zero_grad(), tensor {i}'s .grad is {shown}, not None or zeros"
        # zero_grad forgets gradients, not the optimizer's state: the run above went on
        # from the state of the first round, and the reference agreed after every step.


# ----------------------------------------------------------------- defaults and dtypes


@pytest.mark.points(1)
@pytest.mark.parametrize("name", list(HYPER))
def test_defaults_match_the_spec(student, rng, device, name):
    trajectory(student, rng, name, device)  # built with the parameters only


@pytest.mark.points(1)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_keeps_dtype(student, rng, device, dtype):
    for name, kwargs in HYPER.items():
        trajectory(student, rng, name, device, dtype=dtype, **kwargs)


@pytest.mark.points(1)
def test_updates_leaf_tensors_in_place_without_autograd(student, rng, device):
    # Parameters of a real model require grad: step() must update them in place under
    # torch.no_grad(), so they stay leaves that require grad.
    for name, kwargs in HYPER.items():
        tensors = [randn(rng, s, device=device) for s in SHAPES]
        pair = pair_of(student, name, tensors, **kwargs)
        student.batch([remote.calling("requires_grad_") for remote in pair.remotes])
        pair.run([[gradient(rng, s, device=device) for s in SHAPES] for _ in range(3)])
        flags = student.batch([r.getting(f) for r in pair.remotes for f in ("requires_grad", "is_leaf")])
        for i in range(len(pair.remotes)):
            assert flags[2 * i] is True and flags[2 * i + 1] is True, (
                f"{pair.what}: after step(), tensor {i} must still be a leaf that requires grad "
                "(update it in place under torch.no_grad())"
            )
