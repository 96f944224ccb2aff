"""The a4 hidden suite tells right from wrong: the reference and the source notebook
pass every test, the untouched notebook passes none, each test has a mutant it
catches, and the variants the spec allows (where eps sits, zero_grad that zeros,
no shared base class) get full marks."""

import pytest
from support import SuiteSelfTest

pytestmark = pytest.mark.sandbox

FULL_MARKS = 24

MOMENTUM_UPDATE = 'state["v"] = self.beta * state["v"] + (1 - self.beta) * g'

# hidden test -> (old, new): one small bug in the reference that this test must catch
MUTANTS = {
    "test_sgd_trajectory": ("p.sub_(self.lr * g)", "p.sub_(self.lr * g.clamp(-1, 1))"),
    "test_momentum_trajectory": (  # v is never stored: momentum forgets its past
        MOMENTUM_UPDATE + '\n        p.sub_(self.lr * state["v"])',
        'v = self.beta * state["v"] + (1 - self.beta) * g\n        p.sub_(self.lr * v)',
    ),
    "test_momentum_is_the_lecture_average": (  # PyTorch's form
        MOMENTUM_UPDATE,
        'state["v"] = self.beta * state["v"] + g',
    ),
    "test_rmsprop_trajectory": (
        'state["s"] = self.beta * state["s"] + (1 - self.beta) * g**2',
        'state["s"] = self.beta * state["s"] + (1 - self.beta) * g.abs()',
    ),
    "test_adam_trajectory": (  # no bias correction for v
        'v_hat = state["v"] / (1 - self.beta2 ** state["t"])',
        'v_hat = state["v"]',
    ),
    "test_state_is_kept_per_tensor": (  # state kept per shape: tensors of one shape share it
        "self.state = [self.init_state(p) for p in self.params]",
        "self.state = [s.setdefault(p.shape, self.init_state(p)) for s in [{}] for p in self.params]",
    ),
    "test_none_grad_is_skipped": (  # a missing gradient taken as zero: momentum still moves
        "if p.grad is not None:\n                self.update(p, p.grad, state)",
        "self.update(p, torch.zeros_like(p) if p.grad is None else p.grad, state)",
    ),
    "test_zero_grad": ("            p.grad = None\n", "            pass\n"),
    "test_defaults_match_the_spec[SGD]": ("lr: float = 0.01) -> None:", "lr: float = 0.1) -> None:"),
    "test_defaults_match_the_spec[Momentum]": ("beta: float = 0.9) -> None:", "beta: float = 0.99) -> None:"),
    "test_defaults_match_the_spec[RMSProp]": ("beta: float = 0.9, eps", "beta: float = 0.99, eps"),
    "test_defaults_match_the_spec[Adam]": (
        "lr: float = 0.001,\n        beta1",
        "lr: float = 0.01,\n        beta1",
    ),
    "test_keeps_dtype[torch.float32]": ("p.sub_(self.lr * g)", "p.data = p.double() - self.lr * g"),
    "test_keeps_dtype[torch.float64]": ("p.sub_(self.lr * g)", "p.data = (p - self.lr * g).float()"),
    "test_updates_leaf_tensors_in_place_without_autograd": ("    @torch.no_grad()\n", ""),
}

# What the spec allows: eps outside the root for RMSProp, inside it for Adam (and Adam's
# step size folded as in the paper),
# zero_grad that zeros, no base class, state kept in a dict by tensor identity.
VARIANT = """
import math
import torch


class SGD:
    def __init__(self, params, lr=0.01):
        self.params, self.lr = list(params), lr

    def step(self):
        with torch.no_grad():
            for p in self.params:
                if p.grad is not None:
                    p -= self.lr * p.grad

    def zero_grad(self):
        for p in self.params:
            if p.grad is not None:
                p.grad.zero_()


class Momentum:
    def __init__(self, params, lr=0.01, beta=0.9):
        self.params, self.lr, self.beta = list(params), lr, beta
        self.v = {}

    def step(self):
        with torch.no_grad():
            for p in self.params:
                if p.grad is None:
                    continue
                v = self.v.get(id(p), torch.zeros_like(p))
                v = v.mul(self.beta).add(p.grad, alpha=1 - self.beta)
                self.v[id(p)] = v
                p.add_(v, alpha=-self.lr)

    def zero_grad(self):
        for p in self.params:
            if p.grad is not None:
                p.grad.zero_()


class RMSProp:
    def __init__(self, params, lr=0.001, beta=0.9, eps=1e-8):
        self.params, self.lr, self.beta, self.eps = list(params), lr, beta, eps
        self.s = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self):
        for p, s in zip(self.params, self.s):
            if p.grad is not None:
                s.mul_(self.beta).addcmul_(p.grad, p.grad, value=1 - self.beta)
                p.addcdiv_(p.grad, s.sqrt() + self.eps, value=-self.lr)

    def zero_grad(self):
        for p in self.params:
            p.grad = None


class Adam:
    def __init__(self, params, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params = list(params)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = [0] * len(self.params)

    @torch.no_grad()
    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            self.t[i] += 1
            t = self.t[i]
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g * g
            # eps folded into the step size, inside the root, as the Adam paper allows
            step = self.lr * math.sqrt(1 - self.beta2**t) / (1 - self.beta1**t)
            p.sub_(step * self.m[i] / torch.sqrt(self.v[i] + self.eps))

    def zero_grad(self):
        for p in self.params:
            p.grad = None
"""


MOMENTUM_STEP = MOMENTUM_UPDATE + '\n        p.sub_(self.lr * state["v"])'

# suites/a4/misconceptions.py's catalogue -> a notebook with exactly that misconception
# (after "#": another way to write the same one)
MISCONCEPTIONS = {
    "adam-no-bias-correction": [
        ('m_hat = state["m"] / (1 - self.beta1 ** state["t"])', 'm_hat = state["m"]'),
        ('v_hat = state["v"] / (1 - self.beta2 ** state["t"])', 'v_hat = state["v"]'),
    ],
    "momentum-sums-gradients": [(MOMENTUM_UPDATE, 'state["v"] = self.beta * state["v"] + g')],  # PyTorch's
    "momentum-sums-gradients#classical": [
        (MOMENTUM_STEP, 'state["v"] = self.beta * state["v"] - self.lr * g\n        p.add_(state["v"])'),
    ],
    "rmsprop-without-the-root": [('/ torch.sqrt(state["s"] + self.eps)', '/ (state["s"] + self.eps)')],
    "missing-grad-taken-as-zero": [
        (
            "if p.grad is not None:\n                self.update(p, p.grad, state)",
            "self.update(p, torch.zeros_like(p) if p.grad is None else p.grad, state)",
        ),
    ],
}


class TestA4Suite(SuiteSelfTest):
    ASSIGNMENT, FULL_MARKS, MUTANTS, VARIANT = "a4", FULL_MARKS, MUTANTS, VARIANT
    MISCONCEPTIONS = MISCONCEPTIONS
