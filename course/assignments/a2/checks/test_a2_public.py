"""Public checks for a2: a small sample of what the hidden tests look at.

Run them with ``dlgrade check a2.ipynb``. Passing these does not mean the hidden
tests pass: those use random inputs of other shapes (3-d ones for softmax), both float
dtypes, exact zeros, other values of alpha, every activation name, large layers whose
statistics they test, and check that no input is modified in place.
"""

import math

import pytest
import torch

from grader.testing import assert_tensor


@pytest.mark.points(1)
def test_relu_and_leaky_relu_by_hand(student):
    """relu and leaky_relu of [-2, 0, 3], with the default alpha (0.01) and alpha=0.5. Look at
    relu and leaky_relu: negatives become 0 (relu) or alpha * z (leaky_relu); 0 and positives
    stay."""
    z = torch.tensor([-2.0, 0.0, 3.0])
    assert_tensor(student.relu(z), torch.tensor([0.0, 0.0, 3.0]), what="relu([-2, 0, 3])")
    assert_tensor(student.leaky_relu(z), torch.tensor([-0.02, 0.0, 3.0]), what="leaky_relu([-2, 0, 3])")
    got = student.leaky_relu(z, alpha=0.5)
    assert_tensor(got, torch.tensor([-1.0, 0.0, 3.0]), what="leaky_relu([-2, 0, 3], alpha=0.5)")


@pytest.mark.points(1)
def test_softmax_of_small_and_huge_logits(student):
    """softmax of [[0, log 3]] is [[0.25, 0.75]], and of [[1e4, 0, -1e4]] is [[1, 0, 0]],
    finite. Look at softmax: subtract each row's maximum before exp, and normalise along the
    last dimension."""
    got = student.softmax(torch.tensor([[0.0, math.log(3.0)]]))
    assert_tensor(got, torch.tensor([[0.25, 0.75]]), what="softmax([[0, log 3]])")
    got = student.softmax(torch.tensor([[1e4, 0.0, -1e4]]))
    assert_tensor(got, torch.tensor([[1.0, 0.0, 0.0]]), what="softmax([[1e4, 0, -1e4]]), finite")


@pytest.mark.points(1)
def test_dense_by_hand(student):
    """dense(x, W, b) = x @ W + b on a (2, 3) batch with W of shape (3, 2). Look at dense: W is
    (d_in, d_out), so x @ W, not W @ x; b is added to every row."""
    x = torch.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]])  # (n, d_in) = (2, 3)
    W = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # (d_in, d_out) = (3, 2)
    b = torch.tensor([0.5, -1.0])  # (d_out,)
    assert_tensor(
        student.dense(x, W, b),
        torch.tensor([[4.5, 4.0], [0.5, 0.0]]),
        what="dense([[1, 2, 3], [0, 1, 0]], [[1, 0], [0, 1], [1, 1]], [0.5, -1])",
    )


@pytest.mark.points(1)
def test_init_params_shapes_and_zero_biases(student):
    """init_params([4, 3, 2]) gives a list of two (W, b) pairs, W of shapes (4, 3) and (3, 2), b
    zeros. Look at init_params: one pair per consecutive pair of sizes."""
    params = student.init_params([4, 3, 2])
    assert isinstance(params, list) and len(params) == 2, "init_params([4, 3, 2]): expected a list of 2 pairs"
    for (W, b), (d_in, d_out) in zip(params, [(4, 3), (3, 2)], strict=True):
        assert tuple(W.shape) == (d_in, d_out), f"W must have shape {(d_in, d_out)}, got {tuple(W.shape)}"
        assert_tensor(b, torch.zeros(d_out), what=f"b of the layer {d_in} -> {d_out} (zeros)")


@pytest.mark.points(1)
def test_mlp_forward_by_hand(student):
    """A two-layer network worked by hand: the hidden layer goes through relu, the output layer
    does not. Look at mlp_forward: apply the activation after every layer but the last."""
    # hidden: relu([1, -1] @ I + 0) = [1, 0]; output: [1, 0] @ [[2], [3]] - 5 = -3, no relu
    x = torch.tensor([[1.0, -1.0]])
    params = [(torch.eye(2), torch.zeros(2)), (torch.tensor([[2.0], [3.0]]), torch.tensor([-5.0]))]
    got = student.mlp_forward(x, params, activation="relu")
    assert_tensor(got, torch.tensor([[-3.0]]), what="mlp_forward([[1, -1]], params, 'relu'): the logits")


@pytest.mark.points(1)
def test_mse_loss_by_hand(student):
    """mse_loss([1, 2], [0, 0]) = (1 + 4) / 2 = 2.5. Look at mse_loss: the mean of the squared
    differences, not their sum."""
    got = student.mse_loss(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0]))
    assert_tensor(got, torch.tensor(2.5), what="mse_loss([1, 2], [0, 0]) = (1 + 4) / 2")


@pytest.mark.points(1)
def test_cross_entropy_of_equal_and_huge_logits(student):
    """cross_entropy of equal logits over 4 classes is log 4, and of [[1e4, 0, -1e4]] with label
    2 is 2e4, finite. Look at cross_entropy: use log-softmax with the row maximum subtracted,
    then the mean over the batch."""
    got = student.cross_entropy(torch.zeros(2, 4), torch.tensor([0, 3]))
    assert_tensor(got, torch.tensor(math.log(4.0)), what="cross_entropy(zeros(2, 4), [0, 3]) = log 4")
    got = student.cross_entropy(torch.tensor([[1e4, 0.0, -1e4]]), torch.tensor([2]))
    assert_tensor(got, torch.tensor(2e4), what="cross_entropy([[1e4, 0, -1e4]], [2]), which must be finite")
