# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import math

import torch


def relu(z):
    return (z + z.abs()) / 2


def leaky_relu(z, alpha=0.01):
    out = z.clone()
    out[z < 0] *= alpha
    return out


def tanh(z):
    return torch.tanh(z)


def elu(z, alpha=1.0):
    return torch.where(z >= 0, z, alpha * (z.clamp(max=0).exp() - 1))


def softmax(z):
    z = z - z.amax(-1, keepdim=True)
    return z.exp() / z.exp().sum(-1, keepdim=True)


def dense(x, W, b):
    return x @ W + b


def init_params(sizes, init="kaiming", generator=None):
    gain = {"kaiming": lambda a, b: 2 / a, "xavier": lambda a, b: 2 / (a + b)}
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        std = math.sqrt(gain[init](a, b))
        params.append((torch.normal(mean=0.0, std=std, size=(a, b), generator=generator), torch.zeros(b)))
    return params


def mlp_forward(x, params, activation="relu"):
    lookup = {"relu": relu, "tanh": tanh, "sigmoid": sigmoid, "leaky_relu": leaky_relu, "elu": elu}
    out = x
    last = len(params) - 1
    for i in range(len(params)):
        out = out @ params[i][0] + params[i][1]
        if i != last:
            out = lookup[activation](out)
    return out


def predict_proba(x, params, activation="relu"):
    return softmax(mlp_forward(x, params, activation))


def mse_loss(y_hat, y):
    return ((y_hat - y) ** 2).mean()


def cross_entropy(logits, y):
    logp = logits - logits.logsumexp(dim=-1, keepdim=True)
    return -logp.gather(-1, y[:, None]).squeeze(-1).mean()
