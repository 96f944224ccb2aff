# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import torch


def weighted_sum(x, w, b):
    return (x @ w.reshape(-1, 1)).reshape(x.shape[:-1]) + b


def sign(z):
    return torch.nan_to_num(z / z.abs(), nan=0.0)


def sigmoid(z):
    return torch.exp(z - torch.logaddexp(torch.zeros_like(z), z))


def perceptron_predict(x, w, b):
    return torch.sign(x @ w + b)


def perceptron_fit(x, y, lr=1.0, epochs=100):
    y = y.to(x.dtype)
    w = x.new_zeros(x.shape[1])
    b = x.new_zeros(())
    history = []
    for epoch in range(1, epochs + 1):
        count = 0
        for xi, yi in zip(x, y):
            wrong = bool(yi * weighted_sum(xi, w, b) <= 0)
            if wrong:
                w += lr * yi * xi
                b += lr * yi
                count += 1
        history.append(count)
        if count == 0:
            break
    return w, b
