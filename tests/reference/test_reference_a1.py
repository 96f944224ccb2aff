"""a1: the lecture's worked example, Rosenblatt's rule run by hand, and torch's own functions."""

import pytest
import torch

from reference.a1 import perceptron_fit, perceptron_predict, sigmoid, sign, weighted_sum

DTYPES = [torch.float32, torch.float64]


def test_worked_example_from_the_lecture():
    w, b, x = torch.tensor([3.0, -2.0]), 0.5, torch.tensor([-2.0, 3.0])
    z = weighted_sum(x, w, b)  # 3 * -2 + -2 * 3 + 0.5
    assert z.shape == () and z.item() == -11.5
    assert perceptron_predict(x, w, b).item() == -1


@pytest.mark.parametrize("dtype", DTYPES)
def test_weighted_sum_of_a_batch_is_x_at_w_plus_b(cmp, pure, dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 3, generator=g, dtype=dtype)
    w = torch.randn(3, generator=g, dtype=dtype)
    b = torch.tensor(0.25, dtype=dtype)  # a 0-d tensor; a float works too (worked example)
    cmp("weighted_sum", pure(weighted_sum, x, w, b), x @ w + b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sign_is_torch_sign_with_zero_at_zero(cmp, pure, dtype):
    z = torch.tensor([-2.0, -1e-30, -0.0, 0.0, 1e-30, 3.0], dtype=dtype)
    cmp("sign", pure(sign, z), torch.sign(z), atol=0)
    assert sign(z).tolist() == [-1, -1, 0, 0, 1, 1]


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_matches_torch(cmp, pure, dtype):
    z = 10 * torch.randn(50, generator=torch.Generator().manual_seed(0), dtype=dtype)
    cmp("sigmoid", pure(sigmoid, z), torch.sigmoid(z))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_is_finite_and_in_0_1_for_huge_inputs(cmp, dtype):
    z = torch.tensor([-1e4, -1e3, -50.0, 0.0, 50.0, 1e3, 1e4], dtype=dtype)
    s = sigmoid(z)
    assert torch.isfinite(s).all() and (s >= 0).all() and (s <= 1).all(), s
    assert s[3].item() == 0.5
    cmp("sigmoid at ±1e4", s, torch.sigmoid(z))


def test_perceptron_fit_two_updates_then_a_clean_epoch():
    # Epoch 1, from w = [0, 0], b = 0:
    #   x0 = [ 1,  2], y = +1: z = 0       -> update: w = [ 1, 2], b = 1
    #   x1 = [ 2, -1], y = -1: z = 2-2+1 = 1  -> update: w = [-1, 3], b = 0
    #   x2 = [-1, -1], y = -1: z = 1-3 = -2   -> correct
    # Epoch 2: z = 5, -5, -2, all correct -> stop.
    x = torch.tensor([[1.0, 2.0], [2.0, -1.0], [-1.0, -1.0]])
    y = torch.tensor([1, -1, -1])
    w, b = perceptron_fit(x, y)
    assert w.tolist() == [-1.0, 3.0] and b.item() == 0.0
    assert perceptron_predict(x, w, b).tolist() == [1, -1, -1]
    # From zero, the learning rate only scales the solution.
    w, b = perceptron_fit(x, y, lr=0.5)
    assert w.tolist() == [-0.5, 1.5] and b.item() == 0.0


@pytest.mark.parametrize(("epochs", "w", "b"), [(1, 1.0, 0.0), (2, 2.0, 0.0), (3, 3.0, 0.0)])
def test_perceptron_fit_stops_after_epochs(epochs, w, b):
    # x = 2 is -1, x = 3 is +1: both samples are misclassified in each of the
    # first three epochs, e.g. epoch 1: z = 0 -> w = -2, b = -1; z = -7 -> w = 1, b = 0.
    x, y = torch.tensor([[2.0], [3.0]]), torch.tensor([-1, 1])
    w_fit, b_fit = perceptron_fit(x, y, epochs=epochs)
    assert (w_fit.item(), b_fit.item()) == (w, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_perceptron_fit_separates_separable_data(pure, dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 3, generator=g, dtype=dtype)
    y = torch.where(x @ torch.tensor([1.0, -2.0, 0.5], dtype=dtype) + 0.3 > 0, 1.0, -1.0)
    w, b = pure(perceptron_fit, x, y, epochs=1000)
    assert w.dtype == b.dtype == dtype and w.shape == (3,) and b.shape == ()
    assert torch.equal(perceptron_predict(x, w, b), y)


def test_stays_on_the_input_device():
    # Meta tensors have a device and a dtype but no data: a tensor made on the CPU
    # by mistake and combined with them raises, as it would next to a CUDA tensor.
    x, w = torch.empty(5, 3, device="meta"), torch.empty(3, device="meta")
    for out in [weighted_sum(x, w, 0.5), sign(x), sigmoid(x), perceptron_predict(x, w, 0.5)]:
        assert out.device.type == "meta"
