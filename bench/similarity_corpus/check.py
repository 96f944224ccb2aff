"""Every solution in this folder agrees with course/reference/ (so "independent correct solutions" holds).

    python bench/similarity_corpus/check.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "course"))

import reference.a1 as a1  # noqa: E402
import reference.a2 as a2  # noqa: E402


def same(got, want) -> bool:
    return torch.allclose(torch.as_tensor(got).double(), torch.as_tensor(want).double(), atol=1e-5, rtol=1e-4)


def check_a1(ns: dict) -> list[str]:
    x, w, z = torch.randn(20, 3), torch.randn(3), torch.tensor([-1e4, -2.0, 0.0, 3.0, 1e4])
    y = torch.where(x @ torch.tensor([1.0, -2.0, 0.5]) > 0, 1.0, -1.0)
    checks = {
        "weighted_sum": same(ns["weighted_sum"](x, w, 0.3), a1.weighted_sum(x, w, 0.3))
        and same(ns["weighted_sum"](x[0], w, 0.3), a1.weighted_sum(x[0], w, 0.3)),
        "sign": same(ns["sign"](z), a1.sign(z)),
        "sigmoid": same(ns["sigmoid"](z), a1.sigmoid(z)),
        "perceptron_predict": same(ns["perceptron_predict"](x, w, 0.3), a1.perceptron_predict(x, w, 0.3)),
        "perceptron_fit": all(map(same, ns["perceptron_fit"](x.clone(), y.clone(), lr=0.5, epochs=50),
                                  a1.perceptron_fit(x, y, lr=0.5, epochs=50))),  # fmt: skip
    }
    return [name for name, ok in checks.items() if not ok]


def check_a2(ns: dict) -> list[str]:
    z, big = torch.randn(5, 4) * 3, torch.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, -1e4]])
    x, labels, logits = torch.randn(6, 4), torch.tensor([0, 2, 1, 2, 0, 1]), torch.randn(6, 3)
    params = a2.init_params([4, 5, 3], generator=torch.Generator().manual_seed(1))
    checks = {name: same(ns[name](z), getattr(a2, name)(z)) for name in ("relu", "leaky_relu", "tanh", "elu")}
    checks["softmax"] = same(ns["softmax"](z), a2.softmax(z)) and same(ns["softmax"](big), a2.softmax(big))
    checks["dense"] = same(ns["dense"](x, *params[0]), a2.dense(x, *params[0]))
    checks["mlp_forward"] = all(same(ns["mlp_forward"](x, params, act), a2.mlp_forward(x, params, act))
                                for act in ("relu", "tanh", "sigmoid", "leaky_relu", "elu"))  # fmt: skip
    checks["predict_proba"] = same(ns["predict_proba"](x, params), a2.predict_proba(x, params))
    checks["mse_loss"] = same(ns["mse_loss"](z, z / 2), a2.mse_loss(z, z / 2))
    far = torch.tensor([2, 0])
    near = same(ns["cross_entropy"](logits, labels), a2.cross_entropy(logits, labels))
    checks["cross_entropy"] = near and same(ns["cross_entropy"](big, far), a2.cross_entropy(big, far))
    for init, variance in (("kaiming", 2 / 400), ("xavier", 2 / 700)):
        W, b = ns["init_params"]([400, 300, 10], init=init, generator=torch.Generator().manual_seed(3))[0]
        checks[f"init_params {init}"] = W.shape == (400, 300) and abs(W.var().item() / variance - 1) < 0.05
    return [name for name, ok in checks.items() if not ok]


def main() -> int:
    failed = 0
    for assignment, check in (("a1", check_a1), ("a2", check_a2)):
        for path in sorted((HERE / assignment).glob("s*.py")):
            torch.manual_seed(0)
            namespace = {"sigmoid": a1.sigmoid}  # a2's notebook hands out a1's sigmoid
            exec(path.read_text(), namespace)  # our own files, written for this bench
            wrong = check(namespace)
            failed += bool(wrong)
            print(f"{path.relative_to(HERE)}: {'ok' if not wrong else 'WRONG ' + ', '.join(wrong)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
