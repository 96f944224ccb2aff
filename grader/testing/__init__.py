"""The helper API of hidden suites and public checks (documented in docs/suite-api.md).

Everything here runs on the trusted side. A test reaches the submission only
through the ``student`` fixture; these helpers build inputs, compare what came
back with the reference, and explain every failure in words a student can act on.

    compare       assert_tensor, assert_scalar, assert_unchanged, assert_finite_where_expected
    inputs        randn, away_from_kinks, extremes
    gradients     numerical_gradient, assert_gradient
    trajectories  OptimizerPair: a student's optimizer and the reference's, step by step
    accuracy      hidden_label_accuracy: test labels never leave this side
    autograd_ban  assert_no_autograd: a3's rule, read from the submission's source
"""

from grader.testing.accuracy import hidden_label_accuracy
from grader.testing.autograd_ban import assert_no_autograd, autograd_uses
from grader.testing.compare import (
    assert_finite_where_expected,
    assert_scalar,
    assert_tensor,
    assert_unchanged,
)
from grader.testing.gradients import assert_gradient, numerical_gradient
from grader.testing.inputs import away_from_kinks, extremes, randn
from grader.testing.trajectories import OptimizerPair

__all__ = [
    "assert_tensor",
    "assert_scalar",
    "assert_unchanged",
    "assert_finite_where_expected",
    "randn",
    "away_from_kinks",
    "extremes",
    "numerical_gradient",
    "assert_gradient",
    "OptimizerPair",
    "hidden_label_accuracy",
    "assert_no_autograd",
    "autograd_uses",
]
