"""a4 — the optimizers SGD, momentum, RMSProp and Adam."""

from reference.a4.optimizers import SGD, Adam, Momentum, RMSProp

__all__ = ["SGD", "Momentum", "RMSProp", "Adam"]
