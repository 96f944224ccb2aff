# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import torch


def weighted_sum(x, w, b):
    return torch.einsum("...d,d->...", x, w) + b


def sign(z):
    return torch.where(z > 0, torch.ones_like(z), torch.where(z < 0, -torch.ones_like(z), torch.zeros_like(z)))


def sigmoid(z):
    return torch.special.expit(z)


def perceptron_predict(x, w, b):
    scores = weighted_sum(x, w, b)
    return torch.where(scores > 0, 1.0, torch.where(scores < 0, -1.0, 0.0)).to(scores.dtype)


def perceptron_fit(x, y, lr=1.0, epochs=100):
    d = x.size(1)
    w = x.new_zeros(d)
    b = x.new_zeros(())
    for _ in range(epochs):
        converged = True
        for sample, label in zip(x, y):
            if label * (sample @ w + b) <= 0:
                w.add_(lr * label * sample)
                b.add_(lr * label)
                converged = False
        if converged:
            return w, b
    return w, b
