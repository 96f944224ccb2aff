"""The a5 hidden suite tells right from wrong: the reference and the source notebook
pass every test, the untouched notebook passes none, each test has a mutant it
catches, and what the spec leaves open (another cut order for the split, mini-batches
as a list, another early-stopping counter, another model) gets full marks.

The accuracy task trains a model on the digits for every submission that gets that
far, so mutants of the other functions that would also reach it are cheap ones: the
whole file runs in about two minutes on two cores.
"""

import importlib.util
import sys
from dataclasses import replace

import pytest
import torch
from support import ROOT, SuiteSelfTest

pytestmark = pytest.mark.sandbox

FULL_MARKS = 29

SPLIT_CUT = "_permutation(n, generator, x.device).split([n_train, n_val, n_test])"
SPLIT_RETURN = "return x[train], y[train], x[val], y[val], x[test], y[test]"
BATCH_ORDER = "order = _permutation(n, generator, x.device)  # (n,)"
BATCHES = "return ((x[idx], y[idx]) for idx in order.split(batch_size))"
STEP_PER_BATCH = (
    "        optimizer.step()\n"
    "        total += loss.item() * xb.shape[0]\n"
    "        n += xb.shape[0]\n"
    "    return total / n"
)
STEP_PER_EPOCH = (
    "        total += loss.item() * xb.shape[0]\n"
    "        n += xb.shape[0]\n"
    "    optimizer.step()\n"
    "    return total / n"
)

# hidden test -> (old, new): one small bug in the reference that this test must catch
MUTANTS = {
    "test_split_parts_are_disjoint_and_hold_every_sample": (  # val drawn from the train rows
        "train, val, test = " + SPLIT_CUT,
        "perm = " + SPLIT_CUT.split(".split")[0] + "\n"
        "    train, val, test = perm[:n_train], perm[:n_val], perm[n_train + n_val:]",
    ),
    "test_split_sizes_are_rounded_fractions": (
        "n_val, n_test = round(n * val_frac), round(n * test_frac)",
        "n_val, n_test = int(n * val_frac), int(n * test_frac)",
    ),
    "test_split_keeps_each_row_with_its_label": (
        SPLIT_RETURN,
        SPLIT_RETURN.replace("y[train]", "y[train.flip(0)]"),
    ),
    "test_split_is_reproducible_with_a_seeded_generator": (
        "train, val, test = " + SPLIT_CUT,
        "train, val, test = " + SPLIT_CUT.replace("generator", "None"),
    ),
    "test_split_keeps_dtype_and_device_and_leaves_its_inputs_alone": (
        SPLIT_RETURN,
        SPLIT_RETURN.replace("x[train]", "x[train].float()"),
    ),
    "test_minibatches_cover_every_sample_once_in_shuffled_order": (  # drawn with replacement
        BATCH_ORDER,
        "order = torch.randint(n, (n,), generator=generator, device=x.device)",
    ),
    "test_minibatches_without_shuffle_keep_the_input_order": ("if shuffle:", "if True:"),
    "test_minibatches_have_exact_sizes_and_a_smaller_last_batch": (  # the last batch dropped
        BATCHES,
        BATCHES.replace("))", ") if len(idx) == batch_size)"),
    ),
    "test_minibatches_are_reproducible_with_a_seeded_generator": (
        BATCH_ORDER,
        BATCH_ORDER.replace("generator", "None"),
    ),
    "test_minibatches_keep_dtype_and_device_and_leave_their_inputs_alone": (
        BATCHES,
        BATCHES.replace("(x[idx], y[idx])", "(x[idx].float(), y[idx])"),
    ),
    "test_accuracy_is_a_python_float": (
        "return correct / y.shape[0]",
        "return torch.tensor(correct / y.shape[0])",
    ),
    "test_accuracy_takes_the_argmax_of_each_row": ("argmax(dim=-1)", "argmax(dim=0)"),
    "test_train_matches_the_reference_epoch_by_epoch": ("        optimizer.zero_grad()\n", ""),
    "test_train_stops_patience_epochs_after_the_best": (
        "if since_best >= patience:",
        "if since_best > patience:",
    ),
    "test_train_restores_the_best_weights": (  # a state_dict of references: the last weights
        "best_loss, best_state = val_loss, copy.deepcopy(model.state_dict())",
        "best_loss, best_state = val_loss, model.state_dict()",
    ),
    "test_train_runs_at_most_epochs_epochs": (
        "for epoch in range(epochs):",
        "for epoch in range(epochs + 1):",
    ),
    "test_train_needs_a_strict_improvement": ("val_loss < best_loss", "val_loss <= best_loss"),
    "test_train_steps_once_per_minibatch": (STEP_PER_BATCH, STEP_PER_EPOCH),
    "test_train_is_reproducible_with_a_seeded_generator": (
        "batches = minibatches(x_train, y_train, batch_size, shuffle=True, generator=generator)",
        "batches = minibatches(x_train, y_train, batch_size, shuffle=True)",
    ),
    "test_build_model_trained_with_train_reaches_the_accuracy_threshold": ("HIDDEN = 64", "HIDDEN = 2"),
}

# What the spec allows: the split cut test-first with torch.randperm and index_select,
# mini-batches as a list in another random order (the argsort of uniform numbers, so
# that even a single batch holds its rows in another order than the reference's),
# accuracy as a float32 mean, another model (a class, two tanh
# layers), an unweighted train_loss, no eval() switch, an early-stopping counter
# written as epochs since the best, and the best weights cloned tensor by tensor.
VARIANT = """
import torch
from torch import nn


def train_val_test_split(x, y, val_frac=0.2, test_frac=0.2, generator=None):
    n = len(x)
    n_test, n_val = round(n * test_frac), round(n * val_frac)
    perm = torch.randperm(n, generator=generator).to(x.device)
    test, val, train = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
    return (x.index_select(0, train), y.index_select(0, train), x.index_select(0, val),
            y.index_select(0, val), x.index_select(0, test), y.index_select(0, test))


def minibatches(x, y, batch_size, shuffle=True, generator=None):
    n = len(x)
    order = torch.rand(n, generator=generator).argsort().tolist() if shuffle else list(range(n))
    batches = []
    for start in range(0, n, batch_size):
        idx = torch.tensor(order[start:start + batch_size], device=x.device)
        batches.append((x[idx], y[idx]))
    return batches


def accuracy(logits, y):
    return (logits.argmax(1) == y).float().mean().item()  # a float32 mean: correct up to rounding


class DigitNet(nn.Module):
    def __init__(self, n_in, n_classes):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(n_in, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh())
        self.out = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.out(self.hidden(x))


def build_model(n_in, n_classes):
    return DigitNet(n_in, n_classes)


def train(model, optimizer, loss_fn, x_train, y_train, x_val, y_val, epochs=100, batch_size=32,
          patience=10, generator=None):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    best_epoch, best_loss, best_weights = -1, float("inf"), None
    for epoch in range(epochs):
        losses = []
        for xb, yb in minibatches(x_train, y_train, batch_size, generator=generator):
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history["train_loss"].append(sum(losses) / len(losses))
        with torch.no_grad():
            logits = model(x_val)
            val_loss = loss_fn(logits, y_val).item()
        history["val_loss"].append(val_loss)
        history["val_acc"].append(accuracy(logits, y_val))
        if val_loss < best_loss:
            best_epoch, best_loss = epoch, val_loss
            best_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_weights)
    history["best_epoch"] = best_epoch
    return history
"""


class TestA5Suite(SuiteSelfTest):
    ASSIGNMENT, FULL_MARKS, MUTANTS, VARIANT = "a5", FULL_MARKS, MUTANTS, VARIANT


# ----------------------------------------------------------------- the suite's own problem


@pytest.fixture(scope="module")
def suite(pytestconfig):
    """suites/a5/test_a5.py as a module, for the facts its tests rely on."""
    for marker in ("points(n): hidden-suite points", "time_limit(seconds): hidden-suite wall clock"):
        pytestconfig.addinivalue_line("markers", marker)  # --strict-markers: the grader registers these
    spec = importlib.util.spec_from_file_location("a5_hidden_suite", ROOT / "suites" / "a5" / "test_a5.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_overfitting_problem_stops_early_after_a_dip_that_is_no_improvement(suite):
    setup = suite.Setup()
    history, _ = suite.reference_train(suite.overfitting_problem(), setup, "cpu")
    losses, best = history["val_loss"], history["best_epoch"]
    assert best == 6 and len(losses) == best + setup.patience + 1  # stopped early, best in the middle
    assert any(losses[e] < losses[e - 1] for e in range(best + 2, len(losses)))  # a dip after the best
    runner_up = min(loss for epoch, loss in enumerate(losses) if epoch != best)
    assert runner_up - losses[best] > 1e-3  # far above float64 noise: the best epoch is clear


def test_the_epoch_cap_comes_before_early_stopping(suite):
    history, _ = suite.reference_train(suite.overfitting_problem(), suite.Setup(epochs=8), "cpu")
    assert len(history["val_loss"]) == 8 and history["best_epoch"] == 6


def test_the_repeated_sample_makes_the_order_of_rows_irrelevant(suite):
    setup = suite.Setup(lr=0.5, momentum=0.0, epochs=3, batch_size=7)
    problem = suite.one_repeated_sample(30)
    runs = [suite.reference_train(problem, replace(setup, seed=seed), "cpu") for seed in (0, 1)]
    (first, first_model), (second, second_model) = runs
    assert first["val_loss"] == pytest.approx(second["val_loss"], rel=1e-12)
    assert torch.allclose(first_model.weight, second_model.weight, rtol=1e-12, atol=0)


def test_full_batches_make_the_order_of_rows_irrelevant(suite):
    problem, setup = suite.overfitting_problem(), suite.Setup()
    (first, first_model), (second, second_model) = [
        suite.reference_train(problem, replace(setup, seed=seed), "cpu") for seed in (0, 1)
    ]
    assert first["val_loss"] == pytest.approx(second["val_loss"], rel=suite.RTOL / 100)
    assert torch.allclose(first_model.weight, second_model.weight, rtol=suite.RTOL / 100, atol=0)
