# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import torch


def weighted_sum(x, w, b):
    return torch.matmul(x, w) + b


def sign(z):
    out = torch.zeros_like(z)
    out[z > 0] = 1
    out[z < 0] = -1
    return out


def sigmoid(z):
    z = torch.clamp(z, -60, 60)
    return 1.0 / (1.0 + torch.exp(-z))


def perceptron_predict(x, w, b):
    z = weighted_sum(x, w, b)
    return sign(z)


def perceptron_fit(x, y, lr=1.0, epochs=100):
    n, d = x.shape
    weights = torch.zeros(d, dtype=x.dtype, device=x.device)
    bias = torch.zeros((), dtype=x.dtype, device=x.device)
    epoch = 0
    while epoch < epochs:
        changed = False
        for xi, yi in zip(x, y):
            activation = torch.dot(xi, weights) + bias
            if yi * activation <= 0:
                weights += lr * yi * xi
                bias += lr * yi
                changed = True
        epoch += 1
        if not changed:
            break
    return weights, bias
