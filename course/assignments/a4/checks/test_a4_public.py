"""Public checks for a4: a small sample of what the hidden tests look at.

Run them with ``dlgrade check a4.ipynb``. Passing these does not mean the hidden
tests pass: those run several steps from a fresh optimizer, compare every step with
the update rules, use several tensors, both float dtypes and the default
hyperparameters.
"""

import pytest
import torch

from grader.testing import assert_tensor


@pytest.mark.points(1)
def test_sgd_one_step(student):
    """One SGD step: p -= lr * g with lr = 0.1. Look at SGD.update: change p in place, by lr
    times the gradient."""
    p = student.put(torch.tensor([1.0, -2.0, 3.0]))
    opt = student.keep("SGD", [p], lr=0.1)
    p.set("grad", torch.tensor([10.0, 1.0, -5.0]))
    opt.call("step")
    assert_tensor(
        p.fetch(),
        torch.tensor([0.0, -2.1, 3.5]),
        what="SGD(lr=0.1): p = [1, -2, 3] after one step with g = [10, 1, -5]",
    )


@pytest.mark.points(1)
def test_momentum_first_step_is_one_minus_beta_times_lr_g(student):
    """The first Momentum step, the lecture's form: v = beta * v + (1 - beta) * g, then p -= lr
    * v. Look at Momentum.update: the (1 - beta) factor, and v kept in the state between steps."""
    p = student.put(torch.zeros(3))
    opt = student.keep("Momentum", [p], lr=0.1, beta=0.9)
    p.set("grad", torch.tensor([1.0, -2.0, 4.0]))
    opt.call("step")
    # v = 0.9 * 0 + 0.1 * g, p = 0 - 0.1 * v: the lecture's form, not PyTorch's
    assert_tensor(
        p.fetch(),
        torch.tensor([-0.01, 0.02, -0.04]),
        what="Momentum(lr=0.1, beta=0.9): p = 0 after one step with g = [1, -2, 4]",
    )


@pytest.mark.points(1)
def test_adam_first_step_has_size_lr(student):
    """After Adam's bias correction the first step moves every element by lr against its
    gradient's sign. Look at Adam.update: the bias correction of m and v, with the step count
    starting at 1."""
    p = student.put(torch.zeros(4))
    opt = student.keep("Adam", [p], lr=0.5)
    p.set("grad", torch.tensor([0.3, -2.0, 7.0, -0.5]))
    opt.call("step")
    # after bias correction m_hat = g and v_hat = g**2: each element moves by lr against g
    assert_tensor(
        p.fetch(),
        torch.tensor([-0.5, 0.5, -0.5, 0.5]),
        rtol=1e-5,
        atol=1e-6,
        what="Adam(lr=0.5): p = 0 after one step with g = [0.3, -2, 7, -0.5]",
    )


@pytest.mark.points(1)
def test_a_tensor_without_grad_is_skipped(student):
    """RMSProp with two tensors, one without a gradient: that one stays as it is, the other
    moves. Look at step: skip a tensor whose .grad is None, and RMSProp.update's square root of
    the running average."""
    a, b = student.put(torch.ones(2)), student.put(torch.ones(3))
    opt = student.keep("RMSProp", [a, b], lr=0.1)
    a.set("grad", torch.tensor([1.0, -1.0]))  # b.grad stays None
    opt.call("step")
    assert_tensor(b.fetch(), torch.ones(3), what="RMSProp: a tensor whose .grad is None after one step")
    moved = torch.ones(2) - a.fetch()
    assert_tensor(
        moved.abs(),
        torch.full((2,), 0.1 / 0.1**0.5),
        rtol=1e-5,
        atol=1e-6,
        what="RMSProp(lr=0.1, beta=0.9): |step| after one step with g = [1, -1]",
    )


@pytest.mark.points(1)
def test_zero_grad_clears_the_gradients(student):
    """After zero_grad() of an SGD optimizer, each tensor's .grad is None (or zeros). Look at
    Optimizer.zero_grad, which SGD inherits: set .grad of every tensor the optimizer holds."""
    p = student.put(torch.zeros(3))
    opt = student.keep("SGD", [p])
    p.set("grad", torch.ones(3))
    opt.call("zero_grad")
    g = p.get("grad")
    assert g is None or (isinstance(g, torch.Tensor) and not bool(g.any())), (
        f"after zero_grad(), .grad must be None or zeros, got {g}"
    )
