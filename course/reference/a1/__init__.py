"""a1 — the perceptron."""

from reference.a1.perceptron import (
    perceptron_fit,
    perceptron_predict,
    sigmoid,
    sign,
    weighted_sum,
)

__all__ = ["weighted_sum", "sign", "sigmoid", "perceptron_predict", "perceptron_fit"]
