# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import torch


def weighted_sum(x, w, b):
    if x.dim() == 1:
        return torch.dot(x, w) + b
    return torch.mv(x, w) + b


def sign(z):
    return torch.heaviside(z, torch.tensor(0.5, dtype=z.dtype)) * 2 - 1


def sigmoid(z):
    return 0.5 * (1 + torch.tanh(z / 2))


def perceptron_predict(x, w, b):
    z = weighted_sum(x, w, b)
    return torch.sign(z)


def perceptron_fit(x, y, lr=1.0, epochs=100):
    num_samples, num_features = x.shape
    w = torch.zeros(num_features, dtype=x.dtype)
    b = torch.tensor(0.0, dtype=x.dtype)
    for epoch in range(epochs):
        updates = 0
        i = 0
        while i < num_samples:
            margin = y[i] * (torch.dot(x[i], w) + b)
            if margin.item() <= 0:
                w = w + lr * y[i] * x[i]
                b = b + lr * y[i]
                updates += 1
            i += 1
        if updates == 0:
            break
    return w, b
