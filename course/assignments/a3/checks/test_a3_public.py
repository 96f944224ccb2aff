"""Public checks for a3: a small sample of what the hidden tests look at.

Run them with ``dlgrade check a3.ipynb``. Passing these does not mean the hidden
tests pass: those check every element of every gradient against finite differences
of your own forward pass and against the reference, with sizes that all differ, in
float64 and float32, for every activation and for networks of several depths.

As in the hidden tests, each check first reads your code for autograd, and your
functions run under ``torch.no_grad()``.
"""

import pytest
import torch

from grader.testing import assert_gradient, assert_no_autograd, assert_tensor, numerical_gradient


@pytest.fixture(autouse=True)
def calls_run_under_no_grad(student):
    with student.no_grad():
        yield


@pytest.mark.points(1)
def test_dense_backward_small_example(student):
    """dense_backward on a worked example: dx = dout @ W.T, dW = x.T @ dout, db = dout summed
    over the batch. Look at dense_backward: the shapes of dx, dW and db match x, W and b."""
    assert_no_autograd(student, "dense_backward")
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (n=2, d_in=3)
    W = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])  # (d_in=3, d_out=2)
    dout = torch.tensor([[1.0, -1.0], [2.0, 0.0]])  # (n=2, d_out=2)
    dx, dW, db = student.dense_backward(dout, x, W)
    assert_tensor(dx, torch.tensor([[1.0, -1.0, 2.0], [2.0, 0.0, 2.0]]), what="dx = dout @ W.T")
    assert_tensor(dW, torch.tensor([[9.0, -1.0], [12.0, -2.0], [15.0, -3.0]]), what="dW = x.T @ dout")
    assert_tensor(db, torch.tensor([3.0, -1.0]), what="db = dout summed over the batch")


@pytest.mark.points(1)
def test_relu_backward_is_zero_at_zero(student):
    """relu_backward passes dout where z > 0 and gives 0 elsewhere, also at z = 0. Look at
    relu_backward: the mask is z > 0, not z >= 0."""
    assert_no_autograd(student, "relu_backward")
    z = torch.tensor([[-2.0, 0.0, 3.0]])
    got = student.relu_backward(torch.full((1, 3), 5.0), z)
    assert_tensor(got, torch.tensor([[0.0, 0.0, 5.0]]), what="relu_backward(dout=5, z=[-2, 0, 3])")


@pytest.mark.points(1)
def test_sigmoid_and_tanh_backward_at_zero(student):
    """At z = 0, sigmoid' = 0.25 and tanh' = 1, each times dout. Look at sigmoid_backward and
    tanh_backward: compute the derivative from z (s * (1 - s), 1 - tanh(z)**2) and multiply by
    dout."""
    assert_no_autograd(student, "sigmoid_backward", "tanh_backward")
    z, dout = torch.zeros(1, 2), torch.tensor([[2.0, -4.0]])
    # sigmoid'(0) = 0.5 * (1 - 0.5) = 0.25 and tanh'(0) = 1 - 0**2 = 1
    assert_tensor(
        student.sigmoid_backward(dout, z),
        torch.tensor([[0.5, -1.0]]),
        what="sigmoid_backward(dout=[2, -4], z=0)",
    )
    assert_tensor(
        student.tanh_backward(dout, z), torch.tensor([[2.0, -4.0]]), what="tanh_backward(dout=[2, -4], z=0)"
    )


@pytest.mark.points(1)
def test_cross_entropy_backward_with_equal_logits(student):
    """The gradient of the mean cross-entropy is (softmax - one-hot) / n. Look at
    cross_entropy_backward: subtract 1 at each row's label and divide by the batch size."""
    assert_no_autograd(student, "cross_entropy_backward")
    logits, y = torch.zeros(2, 4), torch.tensor([0, 3])
    # softmax is 1/4 everywhere; subtract the one-hot labels, divide by n = 2 (the batch mean)
    expected = torch.tensor([[-0.375, 0.125, 0.125, 0.125], [0.125, 0.125, 0.125, -0.375]])
    assert_tensor(
        student.cross_entropy_backward(logits, y),
        expected,
        what="cross_entropy_backward(zeros (2, 4), y=[0, 3])",
    )


@pytest.mark.points(1)
def test_mlp_loss_and_grads_against_finite_differences(student):
    """dW of the first layer, compared with finite differences of your own mlp_forward and
    cross_entropy. Look at mlp_loss_and_grads: go backwards through every layer, through the
    activation's backward, in the right order."""
    assert_no_autograd(student, "mlp_loss_and_grads")
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.tensor([0, 1, 1, 0, 1])
    W1 = torch.randn(3, 4, generator=g, dtype=torch.float64)
    W2 = torch.randn(4, 2, generator=g, dtype=torch.float64)
    b1, b2 = torch.full((4,), 0.1, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    _, grads = student.mlp_loss_and_grads(x, y, [(W1, b1), (W2, b2)], "tanh")

    def loss_of_W1(W):  # the loss of your own forward pass as a function of the first layer's W
        return student.cross_entropy(student.mlp_forward(x, [(W, b1), (W2, b2)], "tanh"), y)

    against = "finite differences of your own forward (mlp_forward, cross_entropy)"
    assert_gradient(grads[0][0], numerical_gradient(loss_of_W1, W1), what="dW of layer 1", against=against)
