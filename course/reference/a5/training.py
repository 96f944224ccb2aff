"""Mini-batch training with a validation set, early stopping, and the best weights restored."""

import copy
import math
from collections.abc import Callable, Iterable
from typing import Protocol, TypedDict

import torch
from torch import Tensor, nn

from reference.a5.data import minibatches
from reference.a5.metrics import accuracy

LossFn = Callable[[Tensor, Tensor], Tensor]


class Stepper(Protocol):
    """What `train` needs of an optimizer: a4's classes and `torch.optim`'s both fit."""

    def zero_grad(self) -> None: ...

    def step(self) -> None: ...


class History(TypedDict):
    """One entry per epoch run, and the 0-based epoch whose weights the model holds."""

    train_loss: list[float]
    val_loss: list[float]
    val_acc: list[float]
    best_epoch: int


def _train_epoch(
    model: nn.Module,
    optimizer: Stepper,
    loss_fn: LossFn,
    batches: Iterable[tuple[Tensor, Tensor]],
) -> float:
    """One pass of zero_grad / forward / loss / backward / step; the mean loss per sample.

    Weighting each batch's mean loss by its size makes a smaller last batch count
    for what it holds, so the result is the mean over the epoch's samples.
    """
    total, n = 0.0, 0
    for xb, yb in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * xb.shape[0]
        n += xb.shape[0]
    return total / n


def _evaluate(model: nn.Module, loss_fn: LossFn, x: Tensor, y: Tensor) -> tuple[float, float]:
    """`(loss, accuracy)` in eval mode (dropout off, batch-norm frozen) and without a graph."""
    model.eval()
    with torch.no_grad():
        logits = model(x)
        result = loss_fn(logits, y).item(), accuracy(logits, y)
    model.train()
    return result


def train(
    model: nn.Module,
    optimizer: Stepper,
    loss_fn: LossFn,
    x_train: Tensor,
    y_train: Tensor,
    x_val: Tensor,
    y_val: Tensor,
    epochs: int = 100,
    batch_size: int = 32,
    patience: int = 10,
    generator: torch.Generator | None = None,
) -> History:
    """Train for at most `epochs` epochs and return the history; the model ends on its best epoch.

    After each epoch the validation loss decides: a strictly lower loss than any
    before makes this the best epoch (its weights are deep-copied, since
    `state_dict()` only holds references to tensors that keep training); after
    `patience` epochs in a row without one, training stops. Either way the best
    epoch's weights are loaded back before returning.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    history: History = {"train_loss": [], "val_loss": [], "val_acc": [], "best_epoch": 0}
    best_loss, best_state, since_best = math.inf, None, 0
    model.train()
    for epoch in range(epochs):
        batches = minibatches(x_train, y_train, batch_size, shuffle=True, generator=generator)
        history["train_loss"].append(_train_epoch(model, optimizer, loss_fn, batches))
        val_loss, val_acc = _evaluate(model, loss_fn, x_val, y_val)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if epoch == 0 or val_loss < best_loss:  # epoch 0 is the best so far, whatever its loss
            best_loss, best_state = val_loss, copy.deepcopy(model.state_dict())
            history["best_epoch"], since_best = epoch, 0
        else:
            since_best += 1
            if since_best >= patience:
                break
    model.load_state_dict(best_state)
    return history
