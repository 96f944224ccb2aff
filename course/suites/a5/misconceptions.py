"""a5's misconceptions: the training loop's classic slips, each recognised by what it returns.

The split, batch and accuracy probes call the student's functions on small inputs; the
``train`` probes run the student's loop on the suite's own problems (``suite``: the
hidden suite module, for ``student_train`` and ``reference_train``) and compare with
``reference.a5.train`` with one change, run here on the same problem.
"""

import torch

from grader.testing.misconceptions import Catalogue, changed
from reference.a5 import data, metrics, training

CATALOGUE = Catalogue("a5")

SPLIT_CUT = "_permutation(n, generator, x.device).split([n_train, n_val, n_test])"
BATCHES = "return ((x[idx], y[idx]) for idx in order.split(batch_size))"
TRAIN_TESTS = [
    "test_train_matches_the_reference_epoch_by_epoch",
    "test_train_stops_patience_epochs_after_the_best",
    "test_train_restores_the_best_weights",
    "test_train_runs_at_most_epochs_epochs",
    "test_train_needs_a_strict_improvement",
    "test_train_steps_once_per_minibatch",
    "test_train_is_reproducible_with_a_seeded_generator",
]


def sizes(parts) -> list[int]:
    return [len(part) for part in parts[::2]]


@CATALOGUE.misconception(
    "accuracy-as-a-count",
    title="Accuracy as a count",
    did="your accuracy returns how many rows are right, not which fraction of them.",
    asks="the fraction of rows whose argmax equals the label, as a Python float: the count divided by "
    "the number of rows (then .item() or float()).",
    look="the return line of accuracy.",
    tests=["test_accuracy_is_a_python_float", "test_accuracy_takes_the_argmax_of_each_row"],
)
def accuracy_as_a_count(student, device, suite):
    logits = torch.randn(7, 4, generator=torch.Generator().manual_seed(0)).to(device)
    y = logits.argmax(dim=1)
    y[:4] = (y[:4] + 1) % 4  # 3 of 7 right
    count = changed(metrics, ("return correct / y.shape[0]", "return correct")).accuracy(logits, y)
    got = student.accuracy(logits, y)
    got = got.item() if isinstance(got, torch.Tensor) and got.numel() == 1 else got
    assert type(got) in (int, float) and got == count, f"accuracy: {got!r}, a count would be {count}"


@CATALOGUE.misconception(
    "split-drops-samples",
    title="A split that drops samples",
    did="your train_val_test_split computes the training part's size on its own, as "
    "int(n * (1 - val_frac - test_frac)): the truncation loses samples, which end up in no part.",
    asks="val and test get round(n * frac) samples each, and train gets all the rest, n - n_val - n_test, "
    "so that the three parts together hold every sample exactly once.",
    look="how train_val_test_split computes the training part's size.",
    tests=["test_split_parts_are_disjoint_and_hold_every_sample", "test_split_sizes_are_rounded_fractions"],
)
def split_drops_samples(student, device, suite):
    truncated_train = ("n_train = n - n_val - n_test", "n_train = int(n * (1 - val_frac - test_frac))")
    cut_what_is_counted = (SPLIT_CUT, SPLIT_CUT.replace(".split", "[: n_train + n_val + n_test].split"))
    dropping = changed(data, truncated_train, cut_what_is_counted)
    x, y = suite.numbered(23)
    expected = sizes(dropping.train_val_test_split(x, y, 0.1, 0.35))  # [12, 2, 8]: one sample lost
    got = sizes(suite.split_parts(student, x, y, 0.1, 0.35))
    assert got == expected, f"sizes {got}, dropping samples gives {expected}"


@CATALOGUE.misconception(
    "split-sizes-truncated",
    title="Split sizes truncated instead of rounded",
    did="your train_val_test_split sizes the validation and test parts with int(n * frac), which "
    "rounds down: int(37 * 0.15) = 5 where round gives 6.",
    asks="val and test get round(n * frac) samples, train the rest.",
    look="how train_val_test_split computes n_val and n_test.",
    tests=["test_split_sizes_are_rounded_fractions"],
)
def split_sizes_truncated(student, device, suite):
    truncating = changed(
        data,
        (
            "n_val, n_test = round(n * val_frac), round(n * test_frac)",
            "n_val, n_test = int(n * val_frac), int(n * test_frac)",
        ),
    )
    x, y = suite.numbered(37)
    expected = sizes(truncating.train_val_test_split(x, y, 0.15, 0.25))  # [23, 5, 9]
    got = sizes(suite.split_parts(student, x, y, 0.15, 0.25))
    assert got == expected, f"sizes {got}, truncating gives {expected}"


@CATALOGUE.misconception(
    "last-minibatch-dropped",
    title="The last mini-batch dropped",
    did="your minibatches yields only full batches: when n is not a multiple of batch_size, the "
    "remaining samples are never used.",
    asks="every sample exactly once per call; the last batch may be smaller than batch_size.",
    look="the loop of minibatches, where it stops.",
    tests=[
        "test_minibatches_cover_every_sample_once_in_shuffled_order",
        "test_minibatches_have_exact_sizes_and_a_smaller_last_batch",
        "test_train_steps_once_per_minibatch",
    ],
)
def last_minibatch_dropped(student, device, suite):
    full_only = changed(data, (BATCHES, BATCHES.replace("))", ") if len(idx) == batch_size)")))
    x, y = suite.numbered(13)
    expected = [len(xb) for xb, _ in full_only.minibatches(x, y, 4, shuffle=False)]  # [4, 4, 4]
    got = [len(xb) for xb, _ in suite.drained(student, x, y, 4, shuffle=False)]
    assert got == expected, f"batch sizes {got}, dropping the last gives {expected}"


def same_run(student, device, suite, setup, *edits: tuple[str, str], weights: bool = False) -> None:
    """The student's ``train`` records what ``reference.a5.train`` with ``edits`` does on the
    suite's overfitting problem (and, with ``weights``, leaves the same weights)."""
    problem = suite.overfitting_problem()
    got, model = suite.student_train(student, problem, setup, device)
    train = changed(training, *edits).train
    expected, expected_model = suite.reference_train(problem, setup, device, train=train)
    suite.assert_lists_close(got, expected, "train", keys=("val_loss", "val_acc"))
    assert got["best_epoch"] == expected["best_epoch"]
    if weights:
        suite.assert_weights_close(model, expected_model, "train")


@CATALOGUE.misconception(
    "best-weights-not-restored",
    title="Early stopping without restoring the best weights",
    did="your train stops at the right epoch, but the model it leaves holds the weights of the last "
    "epoch, not of the best one: the best weights are never loaded back, or what was kept was "
    "model.state_dict() itself, whose tensors went on training.",
    asks="on return the model holds the weights of the epoch with the best validation loss: keep a copy "
    "of them when the loss improves (copy.deepcopy(model.state_dict()), or clone each tensor) and "
    "load it back (model.load_state_dict) before returning.",
    look="where train saves the best weights, and the end of train.",
    tests=[
        "test_train_restores_the_best_weights",
        "test_train_steps_once_per_minibatch",
        "test_train_is_reproducible_with_a_seeded_generator",
    ],
)
def best_weights_not_restored(student, device, suite):
    never_loaded = ("model.load_state_dict(best_state)\n", "\n")
    same_run(student, device, suite, suite.Setup(), never_loaded, weights=True)


@CATALOGUE.misconception(
    "patience-off-by-one",
    title="Early stopping one epoch late",
    did="your train waits patience + 1 epochs without improvement before it stops.",
    asks="stop as soon as the validation loss has not improved for patience epochs: with the best "
    "epoch b, the last epoch run is b + patience.",
    look="the comparison of the epochs-without-improvement counter with patience.",
    tests=[
        "test_train_stops_patience_epochs_after_the_best",
        "test_train_matches_the_reference_epoch_by_epoch",
    ],
)
def patience_off_by_one(student, device, suite):
    late = ("if since_best >= patience:", "if since_best > patience:")
    same_run(student, device, suite, suite.Setup(), late)


@CATALOGUE.misconception(
    "gradients-never-zeroed",
    title="Gradients never zeroed between steps",
    did="your train does not call optimizer.zero_grad() before each backward: every step adds its "
    "gradient to those of all the steps before.",
    asks="for each batch: zero the gradients, forward, loss, backward, step.",
    look="the inner loop of train, before loss.backward().",
    tests=TRAIN_TESTS,
)
def gradients_never_zeroed(student, device, suite):
    same_run(student, device, suite, suite.Setup(epochs=8), ("        optimizer.zero_grad()\n", ""))


@CATALOGUE.misconception(
    "improvement-not-strict",
    title="An equal validation loss counted as an improvement",
    did="your train treats a validation loss equal to the best so far as an improvement (<=), so a "
    "loss that stays flat never triggers early stopping and moves the best epoch on.",
    asks="only a strictly lower validation loss is an improvement.",
    look="the comparison of the epoch's validation loss with the best one.",
    tests=["test_train_needs_a_strict_improvement"],
)
def improvement_not_strict(student, device, suite):
    setup = suite.Setup(lr=0.0, momentum=0.0, epochs=8, patience=3)
    same_run(student, device, suite, setup, ("val_loss < best_loss", "val_loss <= best_loss"))
