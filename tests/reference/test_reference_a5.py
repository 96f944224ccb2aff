"""a5: the split and the mini-batches as properties, the training loop on scripted problems,
and the accuracy task end to end on scikit-learn's digits."""

import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from reference.a2 import cross_entropy
from reference.a4 import SGD, Adam
from reference.a5 import accuracy, build_model, minibatches, train, train_val_test_split


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def numbered(n, dtype=torch.float64):
    """x whose row i is [i, -i], and y = 10 * i: every part can be traced back to its rows."""
    i = torch.arange(n)
    return torch.stack([i, -i], dim=1).to(dtype), 10 * i


# --- train_val_test_split -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "val_frac", "test_frac", "sizes"),
    [(10, 0.2, 0.3, (5, 2, 3)), (7, 0.25, 0.25, (3, 2, 2)), (10, 0.0, 0.5, (5, 0, 5))],
)
def test_split_sizes_round_the_fractions(n, val_frac, test_frac, sizes):
    parts = train_val_test_split(*numbered(n), val_frac, test_frac, generator=seeded())
    assert tuple(len(x) for x in parts[::2]) == sizes
    assert tuple(len(y) for y in parts[1::2]) == sizes


def test_split_defaults_to_60_20_20():
    assert [len(x) for x in train_val_test_split(*numbered(100))[::2]] == [60, 20, 20]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_split_is_a_partition_with_rows_kept_together(pure, dtype):
    x, y = numbered(20, dtype)
    parts = pure(train_val_test_split, x, y, generator=seeded())
    xs, ys = torch.cat(parts[::2]), torch.cat(parts[1::2])
    assert xs.dtype == dtype and ys.dtype == torch.long
    assert sorted(xs[:, 0].tolist()) == list(range(20))  # every sample exactly once
    assert torch.equal(ys, 10 * xs[:, 0].long())  # x and y stay paired
    parts[0].zero_()
    assert torch.equal(x, numbered(20, dtype)[0]), "a part shares memory with the input"


def test_split_follows_torch_randperm_of_the_generator():
    x, y = numbered(10)
    x_train, _, x_val, _, x_test, _ = train_val_test_split(x, y, 0.2, 0.3, generator=seeded(3))
    perm = torch.randperm(10, generator=seeded(3))  # train, then val, then test
    assert torch.equal(torch.cat([x_train, x_val, x_test]), x[perm])


def test_split_is_reproducible_and_depends_on_the_seed():
    def split(seed):
        return train_val_test_split(*numbered(50), generator=seeded(seed))

    assert all(torch.equal(a, b) for a, b in zip(split(0), split(0), strict=True))
    assert not torch.equal(split(0)[0], split(1)[0])


def test_split_rejects_fractions_that_do_not_fit():
    with pytest.raises(ValueError):
        train_val_test_split(*numbered(10), val_frac=0.6, test_frac=0.5)


# --- minibatches ----------------------------------------------------------------------------


def test_minibatches_in_order_with_a_smaller_last_batch(pure):
    x, y = numbered(10)
    batches = list(pure(minibatches, x, y, 4, shuffle=False))
    assert [len(xb) for xb, _ in batches] == [4, 4, 2]
    assert torch.equal(torch.cat([xb for xb, _ in batches]), x)
    assert torch.equal(torch.cat([yb for _, yb in batches]), y)


def test_minibatches_shuffled_cover_every_sample_once_and_keep_pairs():
    x, y = numbered(23)
    batches = list(minibatches(x, y, 5, generator=seeded()))
    xs, ys = torch.cat([xb for xb, _ in batches]), torch.cat([yb for _, yb in batches])
    assert [len(xb) for xb, _ in batches] == [5, 5, 5, 5, 3]
    assert sorted(xs[:, 0].tolist()) == list(range(23))
    assert not torch.equal(xs, x), "shuffle=True kept the input order"
    assert torch.equal(ys, 10 * xs[:, 0].long())


def test_minibatches_draw_a_fresh_order_per_call_reproducibly():
    def orders(seed):
        g = seeded(seed)
        return [torch.cat([yb for _, yb in minibatches(*numbered(30), 8, generator=g)]) for _ in "ab"]

    first, second = orders(0)
    assert not torch.equal(first, second)
    assert all(torch.equal(a, b) for a, b in zip(orders(0), (first, second), strict=True))


def test_minibatches_reject_a_batch_size_below_one():
    with pytest.raises(ValueError):
        minibatches(*numbered(4), 0)


# --- accuracy and build_model ---------------------------------------------------------------


def test_accuracy_is_a_python_float():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 4.0]])
    acc = accuracy(logits, torch.tensor([0, 1, 1]))
    assert type(acc) is float and acc == 2 / 3


def test_build_model_returns_logits_per_class():
    model = build_model(64, 10)
    assert isinstance(model, nn.Module)
    assert model(torch.zeros(5, 64)).shape == (5, 10)


# --- train ----------------------------------------------------------------------------------


class Constant(nn.Module):
    """Outputs its one weight `w` for every row; with loss mean(out ** 2), the loss is w**2."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1, dtype=torch.float64))

    def forward(self, x):
        return self.w.expand(x.shape[0], 1)  # (n, 1)


class Scripted:
    """An optimizer that sets `w` to the next scripted value on each step."""

    def __init__(self, w, values):
        self.w, self.values = w, iter(values)

    def zero_grad(self):
        self.w.grad = None

    def step(self):
        with torch.no_grad():
            self.w.fill_(next(self.values))


def squared(out, y):
    return (out**2).mean()


def tiny_data(n_train=4, n_val=2):
    x = torch.zeros(n_train + n_val, 1, dtype=torch.float64)
    y = torch.zeros(n_train + n_val, dtype=torch.long)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def test_train_stops_early_and_restores_the_best_epoch():
    # One batch per epoch; w after each step: 3, 1, 2, 0.5, 0.7, 0.9, ...
    # val loss = w**2:  9, 1 (best), 4, 0.25 (best), 0.49, 0.81 -> 2 epochs without a
    # strictly lower loss: stop after epoch 5, and give back w = 0.5 from epoch 3.
    model = Constant()
    optimizer = Scripted(model.w, [3, 1, 2, 0.5, 0.7, 0.9, 0.6, 0.1])
    history = train(model, optimizer, squared, *tiny_data(), batch_size=4, patience=2)
    assert history["val_loss"] == pytest.approx([9, 1, 4, 0.25, 0.49, 0.81])
    assert history["train_loss"] == pytest.approx([0, 9, 1, 4, 0.25, 0.49])  # before each step
    assert history["val_acc"] == [1.0] * 6
    assert history["best_epoch"] == 3
    assert model.w.item() == 0.5


def test_train_counts_an_equal_val_loss_as_no_improvement():
    # With lr = 0 nothing changes: epoch 0 stays best and patience runs out after 1 + 3 epochs.
    model = nn.Linear(2, 3).double()
    x, y = numbered(12)
    data = (x, y % 3, x, y % 3)  # train and validate on the same rows
    history = train(model, SGD(model.parameters(), lr=0.0), cross_entropy, *data, patience=3)
    assert len(history["val_loss"]) == len(history["train_loss"]) == 4
    assert history["best_epoch"] == 0


def test_train_runs_all_epochs_while_improving():
    model = Constant()
    optimizer = Scripted(model.w, [5, 4, 3, 2, 1])
    history = train(model, optimizer, squared, *tiny_data(), epochs=5, batch_size=4)
    assert len(history["val_loss"]) == 5 and history["best_epoch"] == 4
    assert model.w.item() == 1


def test_train_loss_is_the_mean_over_samples_not_over_batches():
    # Batches of 2, 2, 1 and a loss equal to the batch mean of y = [0, 0, 0, 0, 10]:
    # weighted by batch size that is 2.0 whatever the order; unweighted, 1.67 or 3.33.
    def mean_y(out, y):
        return 0 * out.sum() + y.to(out.dtype).mean()

    model = nn.Linear(1, 2).double()
    x, y = torch.zeros(5, 1, dtype=torch.float64), torch.tensor([0, 0, 0, 0, 10])
    data = (x, y, x[:1], y[:1])
    history = train(model, SGD(model.parameters(), lr=0.0), mean_y, *data, epochs=3, batch_size=2)
    assert history["train_loss"] == pytest.approx([2.0, 2.0, 2.0])


def test_train_validates_in_eval_mode_without_gradients():
    class Recorder(nn.Linear):
        calls = []

        def forward(self, x):
            self.calls.append((self.training, torch.is_grad_enabled(), x.shape[0]))
            return super().forward(x)

    model = Recorder(2, 3).double()
    model.eval()  # train() must switch it to training mode itself
    x, y = numbered(9)
    data = (x[:6], y[:6] % 3, x[6:], y[6:] % 3)
    train(model, SGD(model.parameters()), cross_entropy, *data, epochs=2, batch_size=4)
    epoch = [(True, True, 4), (True, True, 2), (False, False, 3)]
    assert Recorder.calls == epoch * 2
    assert model.training


def test_train_is_reproducible_with_a_seeded_generator():
    def run():
        with torch.random.fork_rng():
            torch.manual_seed(0)
            model = nn.Linear(2, 3).double()
        x, y = numbered(20)
        data = (x, y % 3, x, y % 3)
        optimizer = Adam(model.parameters(), lr=0.01)
        return train(model, optimizer, cross_entropy, *data, epochs=4, batch_size=6, generator=seeded())

    assert run() == run()


# --- the accuracy task ----------------------------------------------------------------------


@pytest.mark.slow
def test_digits_reach_093_test_accuracy():
    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16  # pixels 0..16 -> 0..1
    y = torch.tensor(digits.target, dtype=torch.long)
    g = seeded(0)
    x_train, y_train, x_val, y_val, x_test, y_test = train_val_test_split(x, y, 0.2, 0.2, g)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_model(64, 10)
    optimizer = Adam(model.parameters(), lr=1e-3)
    data = (x_train, y_train, x_val, y_val)
    history = train(
        model, optimizer, cross_entropy, *data, epochs=60, batch_size=32, patience=10, generator=g
    )
    with torch.no_grad():
        test_acc = accuracy(model(x_test), y_test)
    assert test_acc >= 0.93, f"test accuracy {test_acc:.4f} after {len(history['val_loss'])} epochs"
