# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import torch
import torch.nn.functional as F


def weighted_sum(x, w, b):
    return F.linear(x, w.unsqueeze(0)).squeeze(-1) + b


def sign(z):
    result = z.clone()
    result[z > 0] = 1.0
    result[z < 0] = -1.0
    result[z == 0] = 0.0
    return result


def sigmoid(z):
    return torch.exp(-F.softplus(-z))


def perceptron_predict(x, w, b):
    return sign(weighted_sum(x, w, b))


def perceptron_fit(x, y, lr=1.0, epochs=100):
    w = torch.zeros(x.shape[1]).to(x)
    b = torch.zeros(1).to(x)[0]
    for t in range(epochs):
        n_errors = 0
        for j in range(x.shape[0]):
            xj, yj = x[j], y[j]
            if yj * weighted_sum(xj, w, b) > 0:
                continue
            w = w + lr * yj * xj
            b = b + lr * yj
            n_errors += 1
        if n_errors == 0:
            break
    return w, b
