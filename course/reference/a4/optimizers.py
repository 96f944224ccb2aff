"""Four optimizers in the style of `torch.optim`, each one `update` on one tensor.

The base class does the bookkeeping they share: it keeps the tensors and one
state dict per tensor, skips tensors without a gradient, and updates in place
under `torch.no_grad()` (parameters are leaves that require grad, and the
update itself must not be recorded by autograd).
"""

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

State = dict[str, Any]


class Optimizer:
    """Holds the tensors and their per-tensor state; subclasses say how one tensor moves."""

    def __init__(self, params: Iterable[Tensor]) -> None:
        self.params = list(params)
        self.state = [self.init_state(p) for p in self.params]

    def init_state(self, p: Tensor) -> State:
        """The fresh state of one tensor; none by default."""
        return {}

    def update(self, p: Tensor, g: Tensor, state: State) -> None:
        """Move `p` in place along its gradient `g`, reading and writing `state`."""
        raise NotImplementedError

    @torch.no_grad()
    def step(self) -> None:
        """One update of every tensor that has a gradient; the others keep their state as is."""
        for p, state in zip(self.params, self.state, strict=True):
            if p.grad is not None:
                self.update(p, p.grad, state)

    def zero_grad(self) -> None:
        """Forget the gradients, so that the next `backward()` does not add to them."""
        for p in self.params:
            p.grad = None


class SGD(Optimizer):
    """`p -= lr * g`."""

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01) -> None:
        super().__init__(params)
        self.lr = lr

    def update(self, p: Tensor, g: Tensor, state: State) -> None:
        p.sub_(self.lr * g)


class Momentum(Optimizer):
    """The lecture's momentum: step along `v`, a running average of the gradients.

    `v = beta * v + (1 - beta) * g`, then `p -= lr * v`. This is neither
    PyTorch's `v = beta * v + g` nor the classical `v = mu * v - lr * g`: the
    average keeps the step's scale that of one gradient, whatever `beta`.
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, beta: float = 0.9) -> None:
        super().__init__(params)
        self.lr, self.beta = lr, beta

    def init_state(self, p: Tensor) -> State:
        return {"v": torch.zeros_like(p)}

    def update(self, p: Tensor, g: Tensor, state: State) -> None:
        state["v"] = self.beta * state["v"] + (1 - self.beta) * g
        p.sub_(self.lr * state["v"])


class RMSProp(Optimizer):
    """Divide each coordinate's step by the root of its running mean squared gradient.

    `s = beta * s + (1 - beta) * g**2`, then `p -= lr * g / sqrt(s + eps)`:
    coordinates with large gradients take smaller steps, and the reverse.
    """

    def __init__(
        self, params: Iterable[Tensor], lr: float = 0.001, beta: float = 0.9, eps: float = 1e-8
    ) -> None:
        super().__init__(params)
        self.lr, self.beta, self.eps = lr, beta, eps

    def init_state(self, p: Tensor) -> State:
        return {"s": torch.zeros_like(p)}

    def update(self, p: Tensor, g: Tensor, state: State) -> None:
        state["s"] = self.beta * state["s"] + (1 - self.beta) * g**2
        p.sub_(self.lr * g / torch.sqrt(state["s"] + self.eps))


class Adam(Optimizer):
    """Momentum's average `m` over RMSProp's scale `sqrt(v)`, both corrected for their zero start.

    `m` and `v` start at 0, so early on they underestimate the gradient's mean
    and square; dividing by `1 - beta**t` (step `t` of this tensor, from 1)
    removes that bias. The step is `lr * m_hat / (sqrt(v_hat) + eps)`.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps

    def init_state(self, p: Tensor) -> State:
        return {"t": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)}

    def update(self, p: Tensor, g: Tensor, state: State) -> None:
        state["t"] += 1
        state["m"] = self.beta1 * state["m"] + (1 - self.beta1) * g
        state["v"] = self.beta2 * state["v"] + (1 - self.beta2) * g**2
        m_hat = state["m"] / (1 - self.beta1 ** state["t"])
        v_hat = state["v"] / (1 - self.beta2 ** state["t"])
        p.sub_(self.lr * m_hat / (torch.sqrt(v_hat) + self.eps))
