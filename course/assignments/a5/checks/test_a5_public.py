"""Public checks for a5: a small sample of what the hidden tests look at.

Run them with ``dlgrade check a5.ipynb``. Passing these does not mean the hidden
tests pass: those check the rounding of the split sizes, the shuffled mini-batches,
reproducibility with a seeded generator, dtypes, early stopping, the best weights,
the history epoch by epoch against a reference run, and the accuracy task on the
digits with test labels your code never sees.
"""

import pytest
import torch


def numbered(n):
    """x whose row i is [i, -i] (float32) and y = i: any row can be traced back."""
    i = torch.arange(n)
    return torch.stack([i, -i], dim=1).float(), i


@pytest.mark.points(1)
def test_split_of_10_samples_is_6_2_2_and_holds_every_sample_once(student):
    """10 samples split into 6 train, 2 validation, 2 test, each sample in exactly one part.
    Look at train_val_test_split: the sizes, and one permutation used for x and y alike."""
    parts = student.train_val_test_split(*numbered(10))
    sizes = [len(part) for part in parts[::2]]
    assert sizes == [6, 2, 2], (
        f"train_val_test_split of 10 samples: (train, val, test) sizes {sizes}, expected [6, 2, 2]"
    )
    rows = sorted(int(v) for part in parts[::2] for v in part[:, 0].tolist())
    assert rows == list(range(10)), f"train_val_test_split: the parts hold rows {rows}, not each of 0..9 once"


@pytest.mark.points(1)
def test_minibatches_without_shuffle_in_input_order_with_a_smaller_last_batch(student):
    """With shuffle=False, batches of 2 from 5 rows come in order, and the last batch has 1 row.
    Look at minibatches: step through the rows by batch_size and keep the rest at the end."""
    iterator = student.keep("minibatches", *numbered(5), 2, shuffle=False)  # stays in the worker
    batches = student.lib("builtins.list", iterator).fetch()  # list() runs it there
    rows = [yb.tolist() for _, yb in batches]
    assert rows == [[0, 1], [2, 3], [4]], (
        f"minibatches of 5 rows, batch_size=2, shuffle=False: got rows {rows}"
    )


@pytest.mark.points(1)
def test_accuracy_is_a_python_float(student):
    """3 of 4 rows predicted right is 0.75, as a Python float. Look at accuracy: argmax of each
    row, compare with the labels, and return .item() of the mean."""
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0], [0.5, 0.7]])  # predicts 0, 1, 0, 1
    got = student.accuracy(logits, torch.tensor([0, 1, 1, 1]))
    assert type(got) is float and got == 0.75, (
        f"accuracy with 3 of 4 rows right: expected 0.75 (a float), got {got!r}"
    )


@pytest.mark.points(1)
def test_build_model_returns_one_logit_per_class(student):
    """build_model(64, 10) maps a batch of 5 inputs to logits of shape (5, 10). Look at
    build_model: the first layer takes 64 inputs, the last gives one output per class, with no
    softmax."""
    model = student.keep("build_model", 64, 10)
    with student.no_grad():
        logits = model.call("__call__", torch.zeros(5, 64))
    shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
    assert shape == (5, 10), (
        f"build_model(64, 10) on a batch of 5 inputs: expected logits (5, 10), got {shape}"
    )


@pytest.mark.points(1)
def test_train_returns_one_history_entry_per_epoch(student):
    """train with epochs=3 returns a dict with 3 entries in train_loss, val_loss and val_acc,
    and best_epoch in 0..2. Look at train: append once per epoch, after its validation."""
    x, y = torch.randn(20, 3), torch.arange(20) % 2
    model = student.lib("torch.nn.Linear", 3, 2)  # built in the worker, as the optimizer and the loss
    optimizer = student.lib("torch.optim.SGD", model.call_keep("parameters"), lr=0.1)
    loss_fn = student.lib("torch.nn.CrossEntropyLoss")
    history = student.train(model, optimizer, loss_fn, x[:14], y[:14], x[14:], y[14:], epochs=3, batch_size=4)
    assert isinstance(history, dict), f"train must return a dict, got {type(history).__name__}"
    for key in ("train_loss", "val_loss", "val_acc"):
        assert len(history.get(key, [])) == 3, f"train(epochs=3): history[{key!r}] must have 3 entries"
    assert history.get("best_epoch") in (0, 1, 2), (
        f"history['best_epoch'] must be 0, 1 or 2, got {history.get('best_epoch')}"
    )
