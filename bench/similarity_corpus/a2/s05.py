# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import torch


def relu(z):
    out = z.clone()
    out[out < 0] = 0
    return out


def leaky_relu(z, alpha=0.01):
    pos = torch.clamp(z, min=0)
    neg = torch.clamp(z, max=0)
    return pos + alpha * neg


def tanh(z):
    e = torch.exp(2 * z.clamp(max=20))
    return (e - 1) / (e + 1)


def elu(z, alpha=1.0):
    return torch.clamp(z, min=0) + alpha * (torch.exp(torch.clamp(z, max=0)) - 1)


def softmax(z):
    zmax, _ = torch.max(z, dim=-1, keepdim=True)
    num = torch.exp(z - zmax)
    den = num.sum(-1).unsqueeze(-1)
    return num / den


def dense(x, W, b):
    return x.mm(W) + b.unsqueeze(0)


def init_params(sizes, init="kaiming", generator=None):
    assert init in ("kaiming", "xavier")
    params = list()
    i = 0
    while i < len(sizes) - 1:
        fi, fo = sizes[i], sizes[i + 1]
        std = (2 / fi) ** 0.5 if init == "kaiming" else (2 / (fi + fo)) ** 0.5
        params.append((torch.randn(fi, fo, generator=generator).mul(std), torch.zeros(fo)))
        i += 1
    return params


def mlp_forward(x, params, activation="relu"):
    activations = dict(relu=relu, tanh=tanh, sigmoid=sigmoid, leaky_relu=leaky_relu, elu=elu)
    g = activations[activation]
    for idx in range(len(params)):
        W, b = params[idx]
        x = dense(x, W, b)
        if idx != len(params) - 1:
            x = g(x)
    return x


def predict_proba(x, params, activation="relu"):
    scores = mlp_forward(x, params, activation)
    probs = softmax(scores)
    return probs


def mse_loss(y_hat, y):
    return (y_hat - y).pow(2).mean()


def cross_entropy(logits, y):
    probs_log = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    one_hot = torch.zeros_like(logits)
    one_hot[torch.arange(logits.shape[0]), y] = 1
    return -(one_hot * probs_log).sum(dim=1).mean()
