# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import torch


def weighted_sum(x, w, b):
    if x.ndim == 1:
        return (x * w).sum() + b
    return (x * w[None, :]).sum(axis=1) + b


def sign(z):
    s = torch.zeros_like(z)
    s = s.masked_fill(z > 0, 1)
    s = s.masked_fill(z < 0, -1)
    return s


def sigmoid(z):
    e = torch.exp(-z.abs())
    return torch.where(z < 0, e, torch.ones_like(e)) / (1 + e)


def perceptron_predict(x, w, b):
    preds = sign(weighted_sum(x, w, b))
    return preds


def perceptron_fit(x, y, lr=1.0, epochs=100):
    def predict_one(xi, w, b):
        return weighted_sum(xi, w, b)

    w = torch.zeros(x.shape[1], dtype=x.dtype)
    b = torch.zeros((), dtype=x.dtype)
    n = x.shape[0]
    for epoch in range(epochs):
        stable = True
        for i in range(n):
            if y[i] * predict_one(x[i], w, b) <= 0:
                w = w + lr * y[i] * x[i]
                b = b + lr * y[i]
                stable = False
        if stable:
            break
    return w, b
