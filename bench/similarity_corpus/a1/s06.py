# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import torch


def weighted_sum(x, w, b):
    return torch.sum(x * w, dim=-1) + b


def sign(z):
    return z.sign()


def sigmoid(z):
    out = torch.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + torch.exp(-z[pos]))
    ez = torch.exp(z[~pos])
    out[~pos] = ez / (1 + ez)
    return out


def perceptron_predict(x, w, b):
    return sign(x @ w + b)


def _update(w, b, xi, yi, lr):
    return w + lr * yi * xi, b + lr * yi


def perceptron_fit(x, y, lr=1.0, epochs=100):
    w = torch.zeros(x.shape[-1], dtype=x.dtype, device=x.device)
    b = torch.zeros([], dtype=x.dtype, device=x.device)
    for epoch in range(epochs):
        any_update = False
        for i, (xi, yi) in enumerate(zip(x, y)):
            if float(yi * (xi @ w + b)) <= 0.0:
                w, b = _update(w, b, xi, yi, lr)
                any_update = True
        if not any_update:
            break
    return w, b
