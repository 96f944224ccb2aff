# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import math

import torch
import torch.nn.functional as F


def relu(z):
    return F.relu(z)


def leaky_relu(z, alpha=0.01):
    return F.leaky_relu(z, negative_slope=alpha)


def tanh(z):
    return z.tanh()


def elu(z, alpha=1.0):
    return F.elu(z, alpha=alpha)


def softmax(z):
    return F.softmax(z, dim=-1)


def dense(x, W, b):
    return F.linear(x, W.T, b)


def init_params(sizes, init="kaiming", generator=None):
    out = []
    for d_in, d_out in zip(sizes, sizes[1:]):
        denom = d_in if init == "kaiming" else d_in + d_out
        s = math.sqrt(2.0 / denom)
        W = torch.empty(d_in, d_out).normal_(0, s, generator=generator)
        out.append((W, torch.zeros(d_out)))
    return out


def mlp_forward(x, params, activation="relu"):
    act = {"relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "leaky_relu": F.leaky_relu,
           "elu": F.elu}[activation]
    for W, b in params[:-1]:
        x = act(F.linear(x, W.T, b))
    return F.linear(x, params[-1][0].T, params[-1][1])


def predict_proba(x, params, activation="relu"):
    return F.softmax(mlp_forward(x, params, activation), dim=-1)


def mse_loss(y_hat, y):
    return F.mse_loss(y_hat, y)


def cross_entropy(logits, y):
    return F.cross_entropy(logits, y)
