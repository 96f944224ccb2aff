# ruff: noqa  (a student's solution, kept in its own style for bench/similarity.py)
import torch


def relu(z):
    return torch.maximum(z, torch.zeros_like(z))


def leaky_relu(z, alpha=0.01):
    return torch.maximum(z, alpha * z)


def tanh(z):
    return 2 * sigmoid(2 * z) - 1


def elu(z, alpha=1.0):
    neg = alpha * torch.expm1(torch.minimum(z, torch.zeros_like(z)))
    return torch.where(z > 0, z, neg)


def softmax(z):
    shifted = z - torch.amax(z, dim=-1, keepdim=True)
    exps = shifted.exp()
    return exps / torch.sum(exps, dim=-1, keepdim=True)


def dense(x, W, b):
    return torch.matmul(x, W) + b


def init_params(sizes, init="kaiming", generator=None):
    result = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        var = 2.0 / fan_in if init == "kaiming" else 2.0 / (fan_in + fan_out)
        weight = torch.normal(0.0, var**0.5, size=(fan_in, fan_out), generator=generator)
        bias = torch.zeros(fan_out)
        result.append((weight, bias))
    return result


def mlp_forward(x, params, activation="relu"):
    if activation == "relu":
        f = relu
    elif activation == "tanh":
        f = tanh
    elif activation == "sigmoid":
        f = sigmoid
    elif activation == "leaky_relu":
        f = leaky_relu
    elif activation == "elu":
        f = elu
    else:
        raise ValueError(activation)
    out = x
    for W, b in params[:-1]:
        out = f(dense(out, W, b))
    W_last, b_last = params[-1]
    return dense(out, W_last, b_last)


def predict_proba(x, params, activation="relu"):
    logits = mlp_forward(x, params, activation=activation)
    return softmax(logits)


def mse_loss(y_hat, y):
    diff = y_hat - y
    return (diff * diff).sum() / diff.numel()


def cross_entropy(logits, y):
    m = logits.amax(dim=1, keepdim=True)
    lse = m.squeeze(1) + torch.log(torch.exp(logits - m).sum(dim=1))
    picked = logits.gather(1, y.unsqueeze(1)).squeeze(1)
    return (lse - picked).mean()
