"""Hidden suite for a5, the training loop (29 points).

Splits and mini-batches are checked as properties: every sample exactly once, the
sizes the spec fixes, rows kept with their labels, the same parts for the same seed.
The spec does not fix *which* permutation a seeded generator gives, so nothing here
compares a student's permutation with the reference's.

``train`` is checked against ``reference.a5.train`` run here, on the trusted side, on
the same float64 problem from the same starting weights. The model (a
``torch.nn.Linear``), the optimizer, the loss and the generator are library objects
built in the worker. Where the order of the rows could matter, it cannot: the
training set fits in one batch (only the order of a sum changes, hence the small
tolerances), or every training sample is the same row.

The accuracy task trains the student's ``build_model`` with the student's ``train`` on
scikit-learn's digits, their features rotated by a secret drawn per grading run. The
split is made here; the test labels never enter the worker, and the test inputs are in
no copy of the data set the worker could read.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, replace
from functools import cache, partial

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from grader.testing import assert_tensor, assert_unchanged, hidden_label_accuracy
from reference import a5 as ref

RTOL, ATOL = 1e-6, 1e-9  # float64 training runs that differ only in the order of sums
FEATURES, CLASSES = 2, 3
HISTORY_LISTS = ("train_loss", "val_loss", "val_acc")
PARTS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")

ACCURACY_THRESHOLD = 0.93
ACCURACY_SECONDS = 20  # the reference takes about 1.5 s in the worker, and 2 s with the data
DIGITS_TRAINING = {"epochs": 60, "batch_size": 32, "patience": 10}
DIGITS_SEED = 0  # one fixed split (the reference reaches about 0.96 on it), and train's generator
ROTATION_SEED = secrets.randbits(32)
"""This grading run's secret, drawn when the suite is loaded and never sent to the worker:
the digits' features are rotated by ``rotation(ROTATION_SEED)`` (``private_digits``). Over
the seeds tests/suites/test_a5_suite.py tries, the reference reaches at least
``ACCURACY_THRESHOLD + REFERENCE_MARGIN``."""
REFERENCE_MARGIN = 0.02


def numbered(n: int, dtype=torch.float64, device="cpu") -> tuple[Tensor, Tensor]:
    """x whose row i is [i, -i, 0.5] and y = i: any row of any part can be traced back."""
    i = torch.arange(n)
    x = torch.stack([i, -i, torch.full((n,), 0.5)], dim=1).to(dtype=dtype, device=device)
    return x, i.to(device)


def ids(x: Tensor) -> list[int]:
    """The row numbers of the rows of a part of ``numbered``'s x."""
    return [int(v) for v in x[:, 0].tolist()]


def worker_generator(student, seed: int):
    """A seeded ``torch.Generator`` built in the worker: a generator cannot cross the wire."""
    return student.lib("torch.Generator").call_keep("manual_seed", seed)


# ----------------------------------------------------------------- train_val_test_split


def split_parts(student, x, y, *args, **kwargs) -> list[Tensor]:
    parts = student.train_val_test_split(x, y, *args, **kwargs)
    if not isinstance(parts, (tuple, list)) or len(parts) != 6:
        raise AssertionError(
            f"train_val_test_split must return the 6 tensors {', '.join(PARTS)}, got {_kind(parts)}"
        )
    for name, part in zip(PARTS, parts, strict=True):
        if not isinstance(part, Tensor):
            raise AssertionError(f"train_val_test_split: {name} is {_kind(part)}, not a tensor")
    return list(parts)


@pytest.mark.points(2)
def test_split_parts_are_disjoint_and_hold_every_sample(student):
    x, y = numbered(50)
    parts = split_parts(student, x, y, 0.2, 0.3, generator=worker_generator(student, 1))
    train, val, test = (ids(part) for part in parts[::2])
    for a, b, names in [
        (train, val, "train and val"),
        (train, test, "train and test"),
        (val, test, "val and test"),
    ]:
        shared = sorted(set(a) & set(b))
        assert not shared, f"train_val_test_split: {names} share the samples {shared[:8]} (row numbers)"
    everything = sorted(train + val + test)
    assert everything == list(range(50)), (
        f"train_val_test_split of 50 samples: the parts together hold rows {everything[:12]}..., "
        "not every sample exactly once"
    )


@pytest.mark.points(1)
def test_split_sizes_are_rounded_fractions(student):
    # round(37 * 0.15) = round(5.55) = 6, where int() would give 5
    cases = [(37, (0.15, 0.25), (22, 6, 9)), (23, (0.1, 0.35), (13, 2, 8)), (51, (), (31, 10, 10))]
    for n, fracs, sizes in cases:
        parts = split_parts(student, *numbered(n), *fracs)
        got = tuple(len(part) for part in parts[::2])
        fractions = f"val_frac={fracs[0]}, test_frac={fracs[1]}" if fracs else "the default fractions"
        call = f"train_val_test_split of {n} samples with {fractions}"
        assert got == sizes, (
            f"{call}: expected (train, val, test) sizes {sizes}, got {got}; "
            "val and test have round(n * frac) samples, train the rest"
        )
        assert tuple(len(part) for part in parts[1::2]) == sizes, f"{call}: y parts do not match the x parts"


@pytest.mark.points(1)
def test_split_keeps_each_row_with_its_label(student):
    x, y = numbered(30)
    parts = split_parts(student, x, y, generator=worker_generator(student, 2))
    for name, xs, ys in zip(("train", "val", "test"), parts[::2], parts[1::2], strict=True):
        assert ids(xs) == ys.tolist(), (
            f"train_val_test_split: in the {name} part, rows {ids(xs)[:6]} of x come with "
            f"labels {ys.tolist()[:6]} (y_i must stay with x_i)"
        )


@pytest.mark.points(1)
def test_split_is_reproducible_with_a_seeded_generator(student):
    x, y = numbered(40)

    def split(seed: int) -> list[list[int]]:
        parts = split_parts(student, x, y, generator=worker_generator(student, seed))
        return [ids(part) for part in parts[::2]]

    first, again, other = split(5), split(5), split(6)
    assert first == again, (
        "train_val_test_split: two generators seeded alike gave different splits "
        "(draw all randomness from `generator`)"
    )
    assert first != other, "train_val_test_split: generators seeded 5 and 6 gave the same split"
    assert first[0] != list(range(len(first[0]))), (
        "train_val_test_split: the train part is the first rows in order; the split must be random"
    )


@pytest.mark.points(1)
def test_split_keeps_dtype_and_device_and_leaves_its_inputs_alone(student, device):
    for dtype in (torch.float32, torch.float64):
        x, y = numbered(20, dtype, device)
        x_remote, y_remote = student.put(x), student.put(y)
        parts = split_parts(student, x_remote, y_remote)
        for name, part, kind in zip(PARTS, parts, (dtype, torch.long) * 3, strict=True):
            assert part.dtype == kind and part.device == x.device, (
                f"train_val_test_split with x of {dtype} on {device}: {name} is {part.dtype} on "
                f"{part.device}, expected {kind} on {x.device}"
            )
        assert_unchanged(x, x_remote.fetch(), "train_val_test_split: x")
        assert_unchanged(y, y_remote.fetch(), "train_val_test_split: y")


# ----------------------------------------------------------------- minibatches


def drained(student, x, y, batch_size: int, **kwargs) -> list[tuple[Tensor, Tensor]]:
    """Every batch of the student's ``minibatches(...)``, in order.

    An iterator cannot cross the wire: the worker's own ``list()`` runs it to the end
    there, and the list of pairs comes back.
    """
    iterator = student.keep("minibatches", x, y, batch_size, **kwargs)
    got = student.lib("builtins.list", iterator).fetch()
    for i, pair in enumerate(got):
        if not (
            isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(t, Tensor) for t in pair)
        ):
            raise AssertionError(f"minibatches: batch {i} is {_kind(pair)}, not a pair (xb, yb) of tensors")
    return got


def row_ids(batches) -> list[int]:
    return [i for xb, _ in batches for i in ids(xb)]


@pytest.mark.points(2)
def test_minibatches_cover_every_sample_once_in_shuffled_order(student):
    x, y = numbered(23)
    batches = drained(student, x, y, 5, generator=worker_generator(student, 3))
    sizes = [len(xb) for xb, _ in batches]
    assert sizes == [5, 5, 5, 5, 3], (
        f"minibatches of 23 samples, batch_size=5: batch sizes {sizes}, expected [5, 5, 5, 5, 3]"
    )
    order = row_ids(batches)
    assert sorted(order) == list(range(23)), (
        f"minibatches: the batches hold rows {sorted(order)}, not every sample exactly once"
    )
    assert order != list(range(23)), "minibatches with shuffle=True gave the rows in input order"
    for xb, yb in batches:
        assert ids(xb) == yb.tolist(), f"minibatches: rows {ids(xb)} of x come with labels {yb.tolist()}"


@pytest.mark.points(1)
def test_minibatches_without_shuffle_keep_the_input_order(student):
    x, y = numbered(11)
    batches = drained(student, x, y, 4, shuffle=False)
    got = [ids(xb) for xb, _ in batches]
    expected = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]
    assert got == expected, (
        f"minibatches(x, y, 4, shuffle=False) of 11 rows: got rows {got}, expected {expected}"
    )
    assert [yb.tolist() for _, yb in batches] == expected, "minibatches: y batches do not follow x batches"


@pytest.mark.points(1)
def test_minibatches_have_exact_sizes_and_a_smaller_last_batch(student):
    cases = [(20, 5, [5, 5, 5, 5]), (13, 4, [4, 4, 4, 1]), (3, 8, [3]), (4, 1, [1] * 4)]
    for n, batch_size, sizes in cases:
        batches = drained(student, *numbered(n), batch_size, generator=worker_generator(student, n))
        got = [len(xb) for xb, _ in batches]
        assert got == sizes, (
            f"minibatches of {n} samples, batch_size={batch_size}: batch sizes {got}, expected {sizes}"
        )
        assert [len(yb) for _, yb in batches] == sizes, "minibatches: y batches do not match x batches"


@pytest.mark.points(1)
def test_minibatches_are_reproducible_with_a_seeded_generator(student):
    x, y = numbered(30)

    def order(seed: int) -> list[int]:
        return row_ids(drained(student, x, y, 7, generator=worker_generator(student, seed)))

    first, again, other = order(8), order(8), order(9)
    assert first == again, (
        "minibatches: two generators seeded alike gave different orders (draw the order from `generator`)"
    )
    assert first != other, "minibatches: generators seeded 8 and 9 gave the same order"


@pytest.mark.points(1)
def test_minibatches_keep_dtype_and_device_and_leave_their_inputs_alone(student, device):
    for dtype in (torch.float32, torch.float64):
        x, y = numbered(10, dtype, device)
        x_remote, y_remote = student.put(x), student.put(y)
        for xb, yb in drained(student, x_remote, y_remote, 3):
            assert xb.dtype == dtype and xb.device == x.device and yb.dtype == torch.long, (
                f"minibatches with x of {dtype} on {device}: a batch is {xb.dtype} on {xb.device} "
                f"(labels {yb.dtype}); expected {dtype} on {x.device} (labels torch.int64)"
            )
        assert_unchanged(x, x_remote.fetch(), "minibatches: x")
        assert_unchanged(y, y_remote.fetch(), "minibatches: y")


# ----------------------------------------------------------------- accuracy


# A float32 mean of 0/1 values (``(pred == y).float().mean().item()``) is a correct
# accuracy too: it differs from the exact fraction by float32 rounding only.
ACCURACY_TOLERANCE = 1e-6


@pytest.mark.points(1)
def test_accuracy_is_a_python_float(student, rng, device):
    logits = torch.randn(7, 4, generator=rng).to(device)
    y = logits.argmax(dim=1)
    y[:4] = (y[:4] + 1) % 4  # 3 of 7 right
    got = student.accuracy(logits, y)
    assert type(got) is float, (
        f"accuracy must return a Python float, got {_kind(got)} (use .item() or divide Python numbers)"
    )
    assert abs(got - 3 / 7) <= ACCURACY_TOLERANCE, (
        f"accuracy with 3 of 7 rows right: expected 3 / 7 = {3 / 7!r}, got {got!r}"
    )


@pytest.mark.points(1)
def test_accuracy_takes_the_argmax_of_each_row(student, rng, device):
    logits = torch.randn(9, 4, generator=rng, dtype=torch.float64).to(device)
    y = torch.randint(0, 4, (9,), generator=rng).to(device)
    got = student.accuracy(logits, y)
    expected = ref.accuracy(logits, y)
    assert isinstance(got, float) and abs(got - expected) <= ACCURACY_TOLERANCE, (
        f"accuracy of float64 logits (9 rows, 4 classes): expected {expected!r}, got {got!r}"
    )
    every = student.accuracy(logits, logits.argmax(dim=1))
    assert isinstance(every, float) and abs(every - 1.0) <= ACCURACY_TOLERANCE, (
        f"accuracy with every row right must be 1.0, got {every!r}"
    )


# ----------------------------------------------------------------- train


@dataclass(frozen=True)
class Problem:
    """A float64 classification problem and the starting weights of a linear model for it."""

    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor
    init: dict[str, Tensor]  # nn.Linear(FEATURES, CLASSES).state_dict()

    def data(self, device) -> list[Tensor]:
        return [t.to(device) for t in (self.x_train, self.y_train, self.x_val, self.y_val)]


@dataclass(frozen=True)
class Setup:
    """How one training run is configured: torch.optim.SGD's settings and train's."""

    lr: float = 2.0
    momentum: float = 0.8
    epochs: int = 60
    batch_size: int = 64  # more than the 40 training samples: one batch per epoch
    patience: int = 6
    seed: int = 0

    def train_kwargs(self) -> dict:
        return {"epochs": self.epochs, "batch_size": self.batch_size, "patience": self.patience}


@cache
def overfitting_problem() -> Problem:
    """3 classes from 2 noisy features, 40 training and 40 validation samples.

    With SGD(lr=2.0, momentum=0.8) and full batches, the validation loss goes down
    and up for a few epochs, is lowest at epoch 6, then rises with a dip (epochs 10
    to 12) that does not beat epoch 6: patience 6 stops training after epoch 12.
    tests/suites/test_a5_suite.py checks these facts against the reference.
    """
    g = torch.Generator().manual_seed(3)
    w = torch.randn(FEATURES, CLASSES, generator=g, dtype=torch.float64)

    def draw(n: int) -> tuple[Tensor, Tensor]:
        x = torch.randn(n, FEATURES, generator=g, dtype=torch.float64)
        y = (x @ w + torch.randn(n, CLASSES, generator=g, dtype=torch.float64)).argmax(dim=1)
        return x, y

    (x_train, y_train), (x_val, y_val) = draw(40), draw(40)
    bound = 1 / math.sqrt(FEATURES)  # nn.Linear's own initialisation
    init = {
        "weight": (2 * torch.rand(CLASSES, FEATURES, generator=g, dtype=torch.float64) - 1) * bound,
        "bias": (2 * torch.rand(CLASSES, generator=g, dtype=torch.float64) - 1) * bound,
    }
    return Problem(x_train, y_train, x_val, y_val, init)


def one_repeated_sample(n: int) -> Problem:
    """``overfitting_problem`` whose training set is its first sample, ``n`` times.

    Every mini-batch then has the same mean gradient, whatever rows it holds: a run
    depends on how many steps each epoch takes, and not on the order of the rows.
    """
    p = overfitting_problem()
    return replace(p, x_train=p.x_train[:1].repeat(n, 1), y_train=p.y_train[:1].repeat(n))


def reference_train(problem: Problem, setup: Setup, device, train=None) -> tuple[dict, nn.Module]:
    """``reference.a5.train`` (or ``train``) on a fresh ``nn.Linear`` from ``problem.init``: the
    expected run (misconceptions.py passes the reference's train with one change).

    The history gets one more key, ``"batch_losses"``: per epoch, the ``(loss, rows)`` of
    every training batch, from which ``train_loss_forms`` derives what a loop may record.
    """
    model = nn.Linear(FEATURES, CLASSES).double()
    model.load_state_dict(problem.init)
    model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=setup.lr, momentum=setup.momentum)
    generator = torch.Generator().manual_seed(setup.seed)
    data = problem.data(device)
    batches: list[tuple[float, int]] = []
    loss_fn = nn.CrossEntropyLoss()

    def recording_loss(logits: Tensor, y: Tensor) -> Tensor:
        loss = loss_fn(logits, y)
        if torch.is_grad_enabled():  # a training batch; validation runs under no_grad
            batches.append((loss.item(), len(y)))
        return loss

    train = train or ref.train
    history = train(model, optimizer, recording_loss, *data, **setup.train_kwargs(), generator=generator)
    steps = math.ceil(len(problem.x_train) / setup.batch_size)
    history["batch_losses"] = [batches[i : i + steps] for i in range(0, len(batches), steps)]
    return history, model


def train_loss_forms(expected: dict) -> list[list[float]]:
    """What a correct loop may record as ``train_loss``: the mean loss per sample of each
    epoch (the reference's), or the plain mean of its batches' mean losses. They differ
    only when the last batch is smaller than the others."""
    epochs = expected["batch_losses"]
    per_sample = [sum(loss * n for loss, n in epoch) / sum(n for _, n in epoch) for epoch in epochs]
    per_batch = [sum(loss for loss, _ in epoch) / len(epoch) for epoch in epochs]
    return [per_sample, per_batch]


def student_train(student, problem: Problem, setup: Setup, device) -> tuple[dict, object]:
    """The student's ``train`` in the worker, on the same model, optimizer, loss and data.

    Returns the history (checked and converted to plain floats) and the model, which
    stays in the worker. The data tensors are checked to be unchanged afterwards.
    """
    model = student.lib("torch.nn.Linear", FEATURES, CLASSES).call_keep("double")
    model.call("load_state_dict", problem.init)
    model = model.call_keep("to", str(device))
    parameters = model.call_keep("parameters")
    optimizer = student.lib("torch.optim.SGD", parameters, lr=setup.lr, momentum=setup.momentum)
    loss_fn, generator = student.lib("torch.nn.CrossEntropyLoss"), worker_generator(student, setup.seed)
    data = problem.data(device)
    remotes = [student.put(t) for t in data]
    got = student.train(model, optimizer, loss_fn, *remotes, **setup.train_kwargs(), generator=generator)
    history = checked_history(got)
    for name, before, remote in zip(("x_train", "y_train", "x_val", "y_val"), data, remotes, strict=True):
        assert_unchanged(before, remote.fetch(), f"train: {name}")
    return history, model


def checked_history(got) -> dict:
    """The history as lists of floats and an int, or a failure that says what is wrong with it."""
    if not isinstance(got, dict):
        raise AssertionError(f"train must return a dict (the history), got {_kind(got)}")
    missing = [key for key in (*HISTORY_LISTS, "best_epoch") if key not in got]
    if missing:
        raise AssertionError(f"train's history has no {missing}; it has {sorted(got)}")
    history = {
        key: [_number(v, f"history[{key!r}]") for v in _sequence(got[key], key)] for key in HISTORY_LISTS
    }
    lengths = {key: len(history[key]) for key in HISTORY_LISTS}
    if len(set(lengths.values())) != 1:
        raise AssertionError(
            f"train's history lists must have one entry per epoch run, got lengths {lengths}"
        )
    best = _number(got["best_epoch"], "history['best_epoch']")
    if best != int(best):
        raise AssertionError(f"history['best_epoch'] must be an int, got {best}")
    history["best_epoch"] = int(best)
    return history


def _sequence(value, key: str) -> list:
    if not isinstance(value, (list, tuple)):
        raise AssertionError(f"history[{key!r}] must be a list, got {_kind(value)}")
    return list(value)


def _number(value, what: str) -> float:
    if isinstance(value, Tensor) and value.numel() == 1:
        return value.item()
    if type(value) not in (int, float):
        raise AssertionError(f"{what} must hold numbers, got {_kind(value)}")
    return value


def assert_lists_close(got: dict, expected: dict, what: str, keys=HISTORY_LISTS) -> None:
    """Each history list of ``got`` has the reference's length and values, epoch by epoch."""
    for key in keys:
        assert len(got[key]) == len(expected[key]), (
            f"{what}: history[{key!r}] has {len(got[key])} entries, the reference ran "
            f"{len(expected[key])} epochs (best epoch {expected['best_epoch']})"
        )
        as_tensor = partial(torch.tensor, dtype=torch.float64)
        where = f"{what}: history[{key!r}] epoch by epoch"
        assert_tensor(as_tensor(got[key]), as_tensor(expected[key]), rtol=RTOL, atol=ATOL, what=where)


def assert_train_loss_close(got: dict, expected: dict, what: str) -> None:
    """``history["train_loss"]`` is one of the forms a correct loop records (``train_loss_forms``)."""
    as_tensor = partial(torch.tensor, dtype=torch.float64)
    forms = train_loss_forms(expected)
    for form in forms:
        if len(got["train_loss"]) == len(form) and torch.allclose(
            as_tensor(got["train_loss"]), as_tensor(form), rtol=RTOL, atol=ATOL
        ):
            return
    raise AssertionError(
        f"{what}: history['train_loss'] is {_rounded(got['train_loss'])}; the mean training loss of "
        f"each epoch is {_rounded(forms[0])} per sample, or {_rounded(forms[1])} as the mean of the "
        "batches' losses"
    )


def assert_history_describes_the_model(
    student, model, got: dict, problem: Problem, device, what: str
) -> None:
    """The model ``train`` returned holds the weights of ``history['best_epoch']``: its validation
    loss and accuracy, computed here from its logits, are the ones the history records there."""
    x_val, y_val = problem.x_val.to(device), problem.y_val.to(device)
    with student.no_grad():
        logits = model.call("__call__", x_val)
    val_loss, val_acc = F.cross_entropy(logits, y_val).item(), ref.accuracy(logits, y_val)
    best = got["best_epoch"]
    if not 0 <= best < len(got["val_loss"]):
        ran = len(got["val_loss"])
        raise AssertionError(f"{what}: history['best_epoch'] is {best}, but only {ran} epochs ran")
    assert math.isclose(val_loss, got["val_loss"][best], rel_tol=RTOL), (
        f"{what}: after train returned, the model's validation loss is {val_loss:.6f}, but "
        f"history['val_loss'][best_epoch={best}] is {got['val_loss'][best]:.6f}: the history must "
        "record the run, and the model must hold the weights of its best epoch (a state_dict() holds "
        "references: copy it)"
    )
    assert abs(val_acc - got["val_acc"][best]) <= 1e-6, (
        f"{what}: after train returned, the model's validation accuracy is {val_acc:.4f}, but "
        f"history['val_acc'][best_epoch={best}] is {got['val_acc'][best]:.4f}"
    )


def assert_weights_close(model, expected: nn.Module, what: str) -> None:
    got = model.call("state_dict")
    for name, tensor in expected.state_dict().items():
        assert_tensor(got[name], tensor, rtol=RTOL, atol=ATOL, what=f"{what}: the model's {name} after train")


@pytest.mark.points(2)
def test_train_matches_the_reference_epoch_by_epoch(student, device):
    # Full batches from the same weights: each epoch is one zero_grad/forward/loss/backward/step.
    setup = Setup()
    got, _ = student_train(student, overfitting_problem(), setup, device)
    expected, _ = reference_train(overfitting_problem(), setup, device)
    what = "train(Linear(2, 3) in float64, SGD(lr=2.0, momentum=0.8), one batch per epoch)"
    assert_lists_close(got, expected, what)
    assert got["best_epoch"] == expected["best_epoch"], (
        f"{what}: best_epoch {got['best_epoch']}, expected {expected['best_epoch']}"
    )


@pytest.mark.points(2)
def test_train_stops_patience_epochs_after_the_best(student, device):
    setup = Setup()
    got, _ = student_train(student, overfitting_problem(), setup, device)
    losses, best = got["val_loss"], got["best_epoch"]
    lowest = min(range(len(losses)), key=losses.__getitem__)
    assert best == lowest, (
        f"history['best_epoch'] is {best}, but the lowest val_loss is at epoch {lowest} (0-based): "
        f"{_rounded(losses)}"
    )
    assert len(losses) == best + setup.patience + 1, (
        f"train with patience={setup.patience}: the best epoch was {best} (0-based), so training must stop "
        f"after epoch {best + setup.patience}, {best + setup.patience + 1} epochs in all; it ran "
        f"{len(losses)} epochs. val_loss: {_rounded(losses)}"
    )
    expected, _ = reference_train(overfitting_problem(), setup, device)
    what = f"train(patience={setup.patience}) on a problem whose validation loss is lowest at epoch 6"
    assert_lists_close(got, expected, what, keys=("val_loss", "val_acc"))


@pytest.mark.points(2)
def test_train_restores_the_best_weights(student, device):
    setup = Setup()
    problem = overfitting_problem()
    got, model = student_train(student, problem, setup, device)
    _, expected_model = reference_train(problem, setup, device)
    assert_history_describes_the_model(student, model, got, problem, device, "train")
    assert_weights_close(model, expected_model, "train")


@pytest.mark.points(1)
def test_train_runs_at_most_epochs_epochs(student, device):
    setup = Setup(epochs=8)  # the best epoch is 6: no early stop before the cap
    got, _ = student_train(student, overfitting_problem(), setup, device)
    expected, _ = reference_train(overfitting_problem(), setup, device)
    assert len(got["val_loss"]) == 8, f"train(epochs=8) ran {len(got['val_loss'])} epochs, expected 8"
    assert got["best_epoch"] == expected["best_epoch"], (
        f"train(epochs=8): best_epoch {got['best_epoch']}, expected {expected['best_epoch']}"
    )
    assert_lists_close(got, expected, "train(epochs=8)")


@pytest.mark.points(1)
def test_train_needs_a_strict_improvement(student, device):
    # lr=0: the weights never move and every epoch's validation loss is the same.
    setup = Setup(lr=0.0, momentum=0.0, patience=3)
    problem = overfitting_problem()
    got, model = student_train(student, problem, setup, device)
    assert got["best_epoch"] == 0 and len(got["val_loss"]) == 4, (
        f"train with lr=0 (a constant validation loss) and patience=3: expected best_epoch 0 and 4 epochs "
        f"(an equal loss is no improvement), got best_epoch {got['best_epoch']} after "
        f"{len(got['val_loss'])} epochs"
    )
    expected, _ = reference_train(problem, setup, device)
    assert_lists_close(got, expected, "train with lr=0 and patience=3")
    assert_history_describes_the_model(student, model, got, problem, device, "train with lr=0")


@pytest.mark.points(2)
def test_train_steps_once_per_minibatch(student, device):
    # 30 copies of one sample, batch_size 7: 5 steps per epoch (the last on 2 rows),
    # whichever rows each batch holds.
    setup = Setup(lr=0.5, momentum=0.0, epochs=3, batch_size=7, patience=10)
    problem = one_repeated_sample(30)
    got, model = student_train(student, problem, setup, device)
    expected, expected_model = reference_train(problem, setup, device)
    what = "train(30 training samples, batch_size=7, SGD(lr=0.5), 3 epochs): 5 steps per epoch"
    assert_lists_close(got, expected, what, keys=("val_loss", "val_acc"))
    assert_train_loss_close(got, expected, what)
    assert_weights_close(model, expected_model, what)


@pytest.mark.points(1)
def test_train_is_reproducible_with_a_seeded_generator(student, device):
    # Shuffled mini-batches: two runs from the same weights, with generators seeded alike.
    # The spec does not fix the permutation, so the values cannot be the reference's; the
    # history must still describe the model train leaves, and training must have helped.
    setup = Setup(lr=0.5, momentum=0.5, epochs=4, batch_size=8, patience=10)
    problem = overfitting_problem()
    runs = [student_train(student, problem, setup, device) for _ in range(2)]
    (first, first_model), (second, second_model) = runs
    assert first["val_loss"] == second["val_loss"], (
        "train with batch_size=8 run twice, with generators seeded alike: the validation losses differ "
        f"({_rounded(first['val_loss'])} and {_rounded(second['val_loss'])}); draw every random order "
        "from `generator`"
    )
    second_weights = second_model.call("state_dict")
    for name, tensor in first_model.call("state_dict").items():
        assert_tensor(second_weights[name], tensor, rtol=0, atol=0, what=f"train run twice alike: {name}")
    what = "train(batch_size=8, SGD(lr=0.5, momentum=0.5), 4 epochs)"
    assert_history_describes_the_model(student, first_model, first, problem, device, what)
    logits = F.linear(problem.x_val, problem.init["weight"], problem.init["bias"])  # the starting weights
    untrained = F.cross_entropy(logits, problem.y_val)
    assert min(first["val_loss"]) < untrained.item(), (
        f"{what}: the validation loss never fell below the untrained model's {untrained.item():.4f}: "
        f"{_rounded(first['val_loss'])}"
    )


# ----------------------------------------------------------------- the accuracy task


def rotation(seed: int) -> Tensor:
    """A random orthogonal ``(64, 64)`` matrix (Haar-distributed), drawn from ``seed``."""
    g = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(64, 64, generator=g, dtype=torch.float64))
    return (q * torch.sign(torch.diagonal(r))).float()  # the signs make the draw uniform


@cache
def private_digits(seed: int = ROTATION_SEED) -> tuple[Tensor, ...]:
    """sklearn's 8x8 digits (float32 pixels / 16) with their 64 features rotated by
    ``rotation(seed)``, split 60/20/20 with ``DIGITS_SEED``: all on the trusted side.

    The same rotation for every part keeps the task learnable (an MLP's first layer
    absorbs it), but no test input is a row of any copy of the data set, so a model
    that looks its inputs up in ``load_digits()`` answers at chance. The worker does not
    even see sklearn's bundled copy (``grader/sandbox/datasets.py``).
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16 @ rotation(seed)  # (1797, 64)
    y = torch.tensor(digits.target, dtype=torch.long)
    return ref.train_val_test_split(x, y, generator=torch.Generator().manual_seed(DIGITS_SEED))


@pytest.mark.points(4)
@pytest.mark.time_limit(ACCURACY_SECONDS)
def test_build_model_trained_with_train_reaches_the_accuracy_threshold(student, device):
    # Only the training and validation parts and the test *features* go to the worker;
    # the test labels stay here, and the logits come back to be counted here.
    model = student.keep("build_model", 64, 10).call_keep("to", str(device))
    *train_and_val, x_test, y_test = (t.to(device) for t in private_digits())
    optimizer = student.lib("torch.optim.Adam", model.call_keep("parameters"), lr=1e-3)
    loss_fn, generator = student.lib("torch.nn.CrossEntropyLoss"), worker_generator(student, DIGITS_SEED)
    student.keep("train", model, optimizer, loss_fn, *train_and_val, **DIGITS_TRAINING, generator=generator)
    got = hidden_label_accuracy(model, x_test, y_test, what="build_model(64, 10) after train")
    assert got >= ACCURACY_THRESHOLD, (
        f"build_model(64, 10) trained with your train (Adam lr=1e-3, epochs=60, batch_size=32, "
        f"patience=10) reached {got:.3f} accuracy on the hidden test split of the digits; "
        f"the threshold is {ACCURACY_THRESHOLD}"
    )


# ----------------------------------------------------------------- messages


def _rounded(values: list[float]) -> list[float]:
    return [round(v, 4) for v in values]


def _kind(value) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a value of type {type(value).__name__}"
