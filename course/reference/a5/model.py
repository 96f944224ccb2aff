"""The model for the accuracy task: a one-hidden-layer MLP."""

from torch import nn

HIDDEN = 64


def build_model(n_in: int, n_classes: int) -> nn.Module:
    """`n_in -> 64 -> n_classes` with a ReLU; its forward returns logits.

    One hidden layer is plenty for 8x8 digits: Adam takes it well above 0.93
    test accuracy within a few dozen epochs.
    """
    return nn.Sequential(
        nn.Linear(n_in, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, n_classes),
    )
