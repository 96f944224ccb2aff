"""a5 — data splits, mini-batches, accuracy, a model, and the training loop."""

from reference.a5.data import minibatches, train_val_test_split
from reference.a5.metrics import accuracy
from reference.a5.model import build_model
from reference.a5.training import train

__all__ = ["train_val_test_split", "minibatches", "accuracy", "build_model", "train"]
