# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import torch


def weighted_sum(x, w, b):
    b = torch.as_tensor(b, dtype=x.dtype, device=x.device)
    return x.matmul(w).add(b)


def sign(z):
    return torch.sgn(z)


def sigmoid(z):
    z = z.clamp(min=-500, max=500)
    return torch.reciprocal(1 + torch.exp(-z))


def perceptron_predict(x, w, b):
    s = weighted_sum(x, w, b)
    return (s > 0).to(s.dtype) - (s < 0).to(s.dtype)


def perceptron_fit(x, y, lr=1.0, epochs=100):
    w = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device)
    b = torch.tensor(0.0, dtype=x.dtype, device=x.device)
    epoch = 0
    done = False
    while not done and epoch < epochs:
        done = True
        for k in range(x.shape[0]):
            if (y[k] * (x[k] @ w + b)).item() <= 0:
                w = w + lr * y[k] * x[k]
                b = b + lr * y[k]
                done = False
        epoch += 1
    return w, b
