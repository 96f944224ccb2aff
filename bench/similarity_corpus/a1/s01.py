# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import torch


def weighted_sum(x, w, b):
    return x @ w + b


def sign(z):
    return torch.sign(z)


def sigmoid(z):
    return torch.sigmoid(z)


def perceptron_predict(x, w, b):
    return sign(weighted_sum(x, w, b))


def perceptron_fit(x, y, lr=1.0, epochs=100):
    w = torch.zeros(x.shape[1], dtype=x.dtype)
    b = torch.tensor(0.0, dtype=x.dtype)
    for _ in range(epochs):
        errors = 0
        for i in range(x.shape[0]):
            if y[i] * weighted_sum(x[i], w, b) <= 0:
                w = w + lr * y[i] * x[i]
                b = b + lr * y[i]
                errors += 1
        if errors == 0:
            break
    return w, b
