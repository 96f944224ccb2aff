# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import torch


def weighted_sum(x, w, b):
    result = (x * w).sum(dim=-1)
    return result + b


def sign(z):
    positive = (z > 0).to(z.dtype)
    negative = (z < 0).to(z.dtype)
    return positive - negative


def sigmoid(z):
    exp_neg_abs = torch.exp(-torch.abs(z))
    pos = 1.0 / (1.0 + exp_neg_abs)
    neg = exp_neg_abs / (1.0 + exp_neg_abs)
    return torch.where(z >= 0, pos, neg)


def perceptron_predict(x, w, b):
    return sign(weighted_sum(x, w, b))


def perceptron_fit(x, y, lr=1.0, epochs=100):
    w = torch.zeros_like(x[0])
    b = torch.zeros_like(w.sum())
    for epoch in range(epochs):
        mistakes = 0
        for idx in range(len(x)):
            prediction = weighted_sum(x[idx], w, b)
            if y[idx] * prediction <= 0:
                w += lr * y[idx] * x[idx]
                b += lr * y[idx]
                mistakes = mistakes + 1
        if mistakes == 0:
            break
    return w, b
