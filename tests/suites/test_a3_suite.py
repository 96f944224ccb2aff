"""The a3 hidden suite tells right from wrong: the reference, the source notebook and a
legitimate variant pass every test, the untouched notebook passes none, each test has a
mutant it catches, and the autograd ban costs exactly the points it should.

The ban has two lines (see ``grader/testing/autograd_ban.py``): a reading of the source
from each graded function, and calls into the worker under ``torch.no_grad()``. The
submissions below use autograd openly (caught by the reading), hide it from the reading
(caught by no_grad), or use it only in an experiment cell (not caught: allowed).
"""

from pathlib import Path

import pytest
from support import COURSE, SuiteSelfTest, assert_full_marks, flatten_reference

from grader.grading.grade import grade
from grader.intake.notebook import read_cells
from grader.testing import autograd_uses

pytestmark = pytest.mark.sandbox

FULL_MARKS = 32
GRADED = [
    "dense_backward",
    "relu_backward",
    "sigmoid_backward",
    "tanh_backward",
    "cross_entropy_backward",
    "mlp_loss_and_grads",
]

MLP_BACKWARD_STEP = "dense_backward(f_backward(dh, z), x_in, W)"
CE_BACKWARD = "(softmax(logits) - onehot) / n"

# hidden test -> (old, new): one small bug in the reference that this test must catch
MUTANTS = {
    "test_dense_backward_gradient_check": ("db = dout.sum(dim=0)", "db = dout.mean(dim=0)"),
    "test_dense_backward_float32_keeps_dtype_and_inputs": (  # a hard-coded dtype
        "db = dout.sum(dim=0)",
        "db = dout.sum(dim=0, dtype=torch.float64)",
    ),
    "test_relu_backward_gradient_check": ("return dout * (z > 0)", "return (z > 0).to(dout.dtype)"),
    "test_relu_backward_at_zero_is_zero": ("return dout * (z > 0)", "return dout * (z >= 0)"),
    "test_sigmoid_backward_gradient_check": (  # the derivative's form in terms of the output, fed z
        "return dout * s * (1 - s)",
        "return dout * z * (1 - z)",
    ),
    "test_tanh_backward_gradient_check": ("return dout * (1 - t**2)", "return dout * (1 - t) ** 2"),
    "test_activation_backward_float32_keeps_dtype_and_inputs[relu]": (  # writes into dout
        "return dout * (z > 0)",
        "return dout.mul_(z > 0)",
    ),
    "test_activation_backward_float32_keeps_dtype_and_inputs[sigmoid]": (
        "s = sigmoid(z)",
        "s = sigmoid(z).double()",
    ),
    "test_activation_backward_float32_keeps_dtype_and_inputs[tanh]": ("t = tanh(z)", "t = z.tanh_()"),
    "test_activation_backward_at_extreme_inputs[sigmoid]": (  # the naive sigmoid: inf / inf at z >> 0
        "s = sigmoid(z)",
        "s = torch.exp(z) / (1 + torch.exp(z))",
    ),
    "test_activation_backward_at_extreme_inputs[tanh]": (
        "t = tanh(z)",
        "t = (torch.exp(z) - torch.exp(-z)) / (torch.exp(z) + torch.exp(-z))",
    ),
    "test_cross_entropy_backward_gradient_check": (CE_BACKWARD, "(onehot - softmax(logits)) / n"),
    "test_cross_entropy_backward_is_the_batch_mean": (CE_BACKWARD, "softmax(logits) - onehot"),
    "test_cross_entropy_backward_at_extreme_logits": (  # softmax without subtracting the row maximum
        "return " + CE_BACKWARD,
        "e = logits.exp()\n    return (e / e.sum(dim=1, keepdim=True) - onehot) / n",
    ),
    "test_cross_entropy_backward_float32_keeps_dtype_and_inputs": (
        "F.one_hot(y, n_classes).to(logits.dtype)",
        "F.one_hot(y, n_classes).double()",
    ),
    "test_mlp_loss_and_grads_gradient_check[relu]": (MLP_BACKWARD_STEP, "dense_backward(dh, x_in, W)"),
    "test_mlp_loss_and_grads_gradient_check[tanh]": ('"tanh": tanh_backward,', '"tanh": relu_backward,'),
    "test_mlp_loss_and_grads_gradient_check[sigmoid]": (  # f' taken at the activation's output
        MLP_BACKWARD_STEP,
        "dense_backward(f_backward(dh, f(z)), x_in, W)",
    ),
    "test_mlp_loss_and_grads_other_activations[leaky_relu]": (
        '"leaky_relu": leaky_relu_backward,',
        '"leaky_relu": relu_backward,',
    ),
    "test_mlp_loss_and_grads_other_activations[elu]": (  # elu(z) where elu'(z) = elu(z) + alpha belongs
        "alpha * torch.exp(z.clamp(max=0)) * dout",
        "alpha * torch.expm1(z.clamp(max=0)) * dout",
    ),
    "test_mlp_loss_and_grads_any_depth": ("grads[::-1]", "[grads[2], grads[1], grads[0]]"),  # 3 layers only
    "test_mlp_loss_and_grads_float32_keeps_dtype_and_inputs": (
        "return cross_entropy(logits, y), grads[::-1]",
        "return cross_entropy(logits, y).double(), grads[::-1]",
    ),
}

# Correct, but not the reference: library forward functions, einsum, torch.where, a
# scatter for the one-hot, a stable sech^2, and an MLP backward that walks a cache by index.
VARIANT = """
import torch
import torch.nn.functional as F


def sigmoid(z):
    return torch.special.expit(z)


def relu(z):
    return torch.maximum(z, torch.zeros_like(z))


def leaky_relu(z, alpha=0.01):
    return F.leaky_relu(z, alpha)


def tanh(z):
    return torch.tanh(z)


def elu(z, alpha=1.0):
    return F.elu(z, alpha)


ACTIVATIONS = {"relu": relu, "tanh": tanh, "sigmoid": sigmoid, "leaky_relu": leaky_relu, "elu": elu}


def cross_entropy(logits, y):
    return F.cross_entropy(logits, y)


def dense(x, W, b):
    return torch.addmm(b, x, W)


def mlp_forward(x, params, activation="relu"):
    for i, (W, b) in enumerate(params):
        x = dense(x, W, b)
        if i < len(params) - 1:
            x = ACTIVATIONS[activation](x)
    return x


def dense_backward(dout, x, W):
    dx = torch.einsum("no,io->ni", dout, W)
    dW = torch.einsum("ni,no->io", x, dout)
    return dx, dW, torch.einsum("no->o", dout)


def relu_backward(dout, z):
    return torch.where(z > 0, dout, torch.zeros_like(dout))


def sigmoid_backward(dout, z):
    e = torch.exp(-z.abs())  # sigmoid'(z) = e^-|z| / (1 + e^-|z|)^2, an even function
    return dout * e / (1 + e) ** 2


def tanh_backward(dout, z):
    return dout / torch.cosh(z) ** 2


def leaky_relu_backward(dout, z, alpha=0.01):
    return dout * torch.where(z > 0, torch.ones_like(z), torch.full_like(z, alpha))


def elu_backward(dout, z, alpha=1.0):
    return dout * torch.where(z > 0, torch.ones_like(z), elu(z, alpha) + alpha)


BACKWARDS = {"relu": relu_backward, "tanh": tanh_backward, "sigmoid": sigmoid_backward,
             "leaky_relu": leaky_relu_backward, "elu": elu_backward}


def cross_entropy_backward(logits, y):
    n = logits.shape[0]
    p = torch.softmax(logits, dim=1)
    minus_one = torch.full((n, 1), -1.0, dtype=p.dtype, device=p.device)
    return p.scatter_add(1, y[:, None], minus_one) / n


def mlp_loss_and_grads(x, y, params, activation="relu"):
    cache, h = [], x
    for i, (W, b) in enumerate(params):
        z = dense(h, W, b)
        cache.append((h, z))
        h = ACTIVATIONS[activation](z) if i < len(params) - 1 else z
    grads = [None] * len(params)
    d = cross_entropy_backward(h, y)
    for i in range(len(params) - 1, -1, -1):
        h_in, z = cache[i]
        if i < len(params) - 1:
            d = BACKWARDS[activation](d, z)
        d, dW, db = dense_backward(d, h_in, params[i][0])
        grads[i] = (dW, db)
    return cross_entropy(h, y), grads
"""

# ----------------------------------------------------------------- submissions that use autograd

# Every graded function through one helper that calls backward(): the reading follows the helper.
WITH_BACKWARD = """

def _autograd(f, tensors, dout=None):
    leaves = [t.detach().clone().requires_grad_() for t in tensors]
    f(*leaves).backward(dout)
    return [t.grad for t in leaves]


def _zeros_bias(W):
    return torch.zeros(W.shape[1], dtype=W.dtype, device=W.device)


def dense_backward(dout, x, W):
    return tuple(_autograd(dense, [x, W, _zeros_bias(W)], dout))


def relu_backward(dout, z):
    return _autograd(relu, [z], dout)[0]


def sigmoid_backward(dout, z):
    return _autograd(sigmoid, [z], dout)[0]


def tanh_backward(dout, z):
    return _autograd(tanh, [z], dout)[0]


def cross_entropy_backward(logits, y):
    return _autograd(lambda t: cross_entropy(t, y), [logits])[0]


def mlp_loss_and_grads(x, y, params, activation="relu"):
    def loss(*flat):
        return cross_entropy(mlp_forward(x, list(zip(flat[::2], flat[1::2])), activation), y)
    flat = [t for pair in params for t in pair]
    grads = _autograd(loss, flat)
    return loss(*flat), list(zip(grads[::2], grads[1::2]))
"""


def swap(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, f"{old!r} must occur exactly once"
    return source.replace(old, new)


# The same through torch.autograd.grad, imported under another name.
WITH_AUTOGRAD_GRAD = swap(
    swap(
        WITH_BACKWARD,
        "    f(*leaves).backward(dout)\n    return [t.grad for t in leaves]",
        "    return list(G(f(*leaves), leaves, dout))",
    ),
    "\n\ndef _autograd",
    "\nfrom torch.autograd import grad as G\n\n\ndef _autograd",
)

# torch.func needs no requires_grad and works under no_grad: only the reading catches it.
WITH_TORCH_FUNC = swap(
    WITH_BACKWARD,
    "    leaves = [t.detach().clone().requires_grad_() for t in tensors]\n"
    "    f(*leaves).backward(dout)\n    return [t.grad for t in leaves]",
    "    out, pullback = torch.func.vjp(f, *tensors)\n"
    "    return list(pullback(torch.ones_like(out) if dout is None else dout))",
)

# backward() behind names the reading cannot see: it fails under no_grad instead.
HIDDEN_FROM_THE_READING = swap(
    WITH_BACKWARD,
    "    leaves = [t.detach().clone().requires_grad_() for t in tensors]\n"
    "    f(*leaves).backward(dout)\n    return [t.grad for t in leaves]",
    "    leaves = [t.detach().clone() for t in tensors]\n"
    "    for leaf in leaves:\n        setattr(leaf, 'requires' + '_grad', True)\n"
    "    getattr(f(*leaves), 'back' + 'ward')(dout)\n"
    "    return [getattr(t, 'gr' + 'ad') for t in leaves]",
)

# autograd reached only through names computed at run time, with grad mode switched back
# on: the reading sees nothing, no_grad alone is undone; the refused engine fails it.
COMPUTED_NAMES = swap(
    WITH_BACKWARD,
    "    leaves = [t.detach().clone().requires_grad_() for t in tensors]\n"
    "    f(*leaves).backward(dout)\n    return [t.grad for t in leaves]",
    "    with getattr(torch, 'enable_' + 'grad')():\n"
    "        leaves = [t.detach().clone() for t in tensors]\n"
    "        for leaf in leaves:\n            setattr(leaf, 'requires' + '_grad', True)\n"
    "        out = f(*leaves)\n"
    "        engine = getattr(torch, 'auto' + 'grad')\n"
    "        return list(getattr(engine, 'gr' + 'ad')(out, leaves, dout))",
)

# torch.func through a computed name, its refusal caught and the numbers made another way.
CAUGHT_REFUSAL = swap(
    WITH_BACKWARD,
    "    leaves = [t.detach().clone().requires_grad_() for t in tensors]\n"
    "    f(*leaves).backward(dout)\n    return [t.grad for t in leaves]",
    "    try:\n"
    "        out, pullback = getattr(getattr(torch, 'fu' + 'nc'), 'v' + 'jp')(f, *tensors)\n"
    "        return list(pullback(torch.ones_like(out) if dout is None else dout))\n"
    "    except Exception:\n"
    "        return [torch.zeros_like(t) for t in tensors]",
)

# autograd at top level and in a function no graded function calls: allowed.
EXPERIMENTS = """

def check_with_autograd(z):
    z = z.detach().clone().requires_grad_()
    tanh(z).sum().backward()
    return z.grad


z = torch.randn(4, 5, requires_grad=True)
relu(z).sum().backward()
print("largest difference from autograd:", (relu_backward(torch.ones(4, 5), z.detach()) - z.grad).abs().max())
"""

TANH_ONLY_BY_AUTOGRAD = (
    "    t = tanh(z)\n    return dout * (1 - t**2)",
    "    z = z.detach().clone().requires_grad_()\n    tanh(z).backward(dout)\n    return z.grad",
)
# What reaches tanh_backward: its own tests, and every MLP test (through ACTIVATION_BACKWARDS).
REACHES_TANH_BACKWARD = {
    "test_tanh_backward_gradient_check",
    "test_activation_backward_float32_keeps_dtype_and_inputs[tanh]",
    "test_activation_backward_at_extreme_inputs[tanh]",
    *(name for name in MUTANTS if name.startswith("test_mlp_")),
}

# A backward that matches the reference but not the student's own (changed) forward.
CROSS_ENTROPY_AS_A_SUM = (
    "return -log_softmax(logits)[rows, y].mean()",
    "return -log_softmax(logits)[rows, y].sum()",
)


# suites/a3/misconceptions.py's catalogue -> a notebook with exactly that misconception
# (after "#": another way to write the same one)
MISCONCEPTIONS = {
    "relu-derivative-at-zero-is-one": [("return dout * (z > 0)", "return dout * (z >= 0)")],
    "db-not-summed": [("db = dout.sum(dim=0)", "db = dout.mean(dim=0)")],
    "db-not-summed#not-reduced": [("db = dout.sum(dim=0)", "db = dout")],
    "cross-entropy-backward-not-divided-by-n": [(CE_BACKWARD, "softmax(logits) - onehot")],
    "cross-entropy-backward-softmax-overflows": [
        (
            "return " + CE_BACKWARD,
            "e = logits.exp()\n    return (e / e.sum(dim=1, keepdim=True) - onehot) / n",
        ),
    ],
    "sigmoid-derivative-of-the-input": [("return dout * s * (1 - s)", "return dout * z * (1 - z)")],
    "derivative-at-the-activation-output": [
        (MLP_BACKWARD_STEP, "dense_backward(f_backward(dh, f(z)), x_in, W)"),
    ],
    "sigmoid-overflows": [("s = sigmoid(z)", "s = torch.exp(z) / (1 + torch.exp(z))")],
}


class TestA3Suite(SuiteSelfTest):
    ASSIGNMENT, FULL_MARKS, MUTANTS, VARIANT = "a3", FULL_MARKS, MUTANTS, VARIANT
    MISCONCEPTIONS = MISCONCEPTIONS


@pytest.fixture(scope="module")
def ban(tmp_path_factory, course):
    """The submissions about autograd, graded in one batch: name -> result."""
    folder = tmp_path_factory.mktemp("a3_ban")
    reference = flatten_reference("a3")
    sources = {
        "with_backward": reference + WITH_BACKWARD,
        "with_autograd_grad": reference + WITH_AUTOGRAD_GRAD,
        "with_torch_func": reference + WITH_TORCH_FUNC,
        "hidden_from_the_reading": reference + HIDDEN_FROM_THE_READING,
        "computed_names": reference + COMPUTED_NAMES,
        "caught_refusal": reference + CAUGHT_REFUSAL,
        "experiments": reference + EXPERIMENTS,
        "tanh_only_by_autograd": swap(reference, *TANH_ONLY_BY_AUTOGRAD),
        "cross_entropy_as_a_sum": swap(reference, *CROSS_ENTROPY_AS_A_SUM),
    }
    paths = []
    for name, source in sources.items():
        paths.append(folder / f"{name}.py")
        paths[-1].write_text(source)
    results = grade([str(p) for p in paths], assignment="a3", course=course)
    return dict(zip(sources, results, strict=True))


def test_the_untouched_notebook_passes_the_autograd_reading():
    cells = read_cells(COURSE / "assignments" / "a3" / "a3.ipynb")
    assert autograd_uses(cells, GRADED) == []


def test_a_backward_that_disagrees_with_the_students_own_forward_is_caught_and_says_so(ban):
    verdicts = {t.name: t for t in ban["cross_entropy_as_a_sum"].tests}
    check = verdicts["test_cross_entropy_backward_gradient_check"]
    assert check.outcome == "failed"
    assert "finite differences of your own forward (cross_entropy)" in check.message


# ----------------------------------------------------------------- the autograd ban


@pytest.mark.parametrize("submission", ["with_backward", "with_autograd_grad", "with_torch_func"])
def test_autograd_in_graded_code_scores_zero_and_says_why(ban, submission):
    result = ban[submission]
    assert result.score == 0
    assert all(t.outcome == "failed" and "autograd is not allowed" in t.message for t in result.tests)


@pytest.mark.parametrize("submission", ["hidden_from_the_reading", "computed_names", "caught_refusal"])
def test_autograd_hidden_from_the_reading_is_refused_at_run_time(ban, submission):
    result = ban[submission]
    assert autograd_uses([Path(result.submission).read_text()], GRADED) == []  # the reading misses it
    assert result.score == 0
    assert all(
        t.outcome == "failed" and "raised AutogradRefused: autograd is refused" in t.message
        for t in result.tests
    ), {t.name: t.message[:200] for t in result.tests}
    assert all(
        "autograd (backward(), torch.autograd, requires_grad) is not allowed" in t.message
        for t in result.tests
    )  # the rule, not only PyTorch's complaint


def test_autograd_in_experiments_only_keeps_full_marks(ban):
    assert_full_marks(ban["experiments"], FULL_MARKS)


def test_autograd_in_one_function_costs_exactly_the_tests_that_reach_it(ban):
    result = ban["tanh_only_by_autograd"]
    failed = {t.name for t in result.tests if t.outcome != "passed"}
    assert failed == REACHES_TANH_BACKWARD
    assert all("`tanh_backward`" in t.message for t in result.tests if t.name in failed)
