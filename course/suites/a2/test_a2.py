"""Hidden suite for a2, the forward pass (35 points).

Inputs come from the ``rng`` fixture, seeded from each test's name; expected values
come from ``reference.a2`` on this, the trusted, side. Every call goes through
``call``, which keeps the arguments in the worker and fetches them back afterwards:
a function that modifies an input in place fails whatever it returns.

``init_params`` draws random numbers, and a correct student may draw them in another
way than the reference (``torch.normal``, ``randn * s``, another order of layers), so
its tests never compare values with the reference: they test the sampling
distribution. Each statistical test fails a correct implementation with probability
at most 1e-6, derived in its docstring from the exact distribution of its statistic.
"""

import math
from itertools import pairwise

import pytest
import torch

from grader.testing import assert_finite_where_expected, assert_tensor, assert_unchanged, extremes, randn
from reference import a2 as ref

DTYPES = [torch.float64, torch.float32]
TOLERANCE = {  # float64: room for another order of operations; float32: its ~7 digits
    torch.float64: {"rtol": 1e-7, "atol": 1e-12},
    torch.float32: {"rtol": 1e-5, "atol": 1e-6},
}
ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "elu"]
MLP_SIZES = [6, 5, 4, 3]  # two hidden layers, every size distinct; n = 7 samples
ALPHA = 5e-7  # false-alarm rate of one statistical check; each test makes two


def tolerance(dtype: torch.dtype, magnitude: float = 1.0) -> dict[str, float]:
    """``TOLERANCE[dtype]``, loosened for logits as large as ``magnitude``.

    A logit of size M is only known to about M * u (u: the unit roundoff, 6e-8 in
    float32), and a stable softmax or log-softmax carries that error into the log of
    every probability: ``exp(z - logsumexp(z))`` in float32 at M = 1e4 is off by 5e-4
    relative, and it is right. Four such roundings are allowed for; in float64 the
    slack (4e-12 at M = 1e4) stays below the usual tolerance.
    """
    slack = 4 * magnitude * torch.finfo(dtype).eps / 2
    return {key: max(value, slack) for key, value in TOLERANCE[dtype].items()}


def call(student, name: str, *args, **kwargs):
    """``student.<name>(*args, **kwargs)``, failing if the function changed an argument.

    The positional arguments are kept in the worker (``student.put``) and fetched back
    after the call, so what is compared is exactly what the student's function received.
    """
    sent = [student.put(arg) for arg in args]
    got = getattr(student, name)(*sent, **kwargs)
    for position, (arg, remote) in enumerate(zip(args, sent, strict=True), start=1):
        assert_same(arg, remote.fetch(), f"argument {position} of {name}")
    return got


def assert_same(before, after, what: str) -> None:
    """``after`` equals ``before``: tensors exactly, lists and tuples element by element."""
    if isinstance(before, torch.Tensor):
        assert_unchanged(before, after, what)
    elif isinstance(before, (list, tuple)):
        if not isinstance(after, (list, tuple)) or len(after) != len(before):
            raise AssertionError(f"{what} was modified in place; work on a copy instead")
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            assert_same(b, a, f"{what}[{i}]")
    elif before != after:
        raise AssertionError(f"{what} was modified in place; work on a copy instead")


# ----------------------------------------------------------------- activations


def check_activation(student, rng, device, name: str, **kwargs) -> None:
    """``name`` against the reference in float64 and float32, on both sides of 0 and at 0."""
    shown = "".join(f", {key}={value}" for key, value in kwargs.items())
    for dtype in DTYPES:
        z = randn(rng, 7, 5, dtype=dtype, device=device, scale=3.0)
        z[::2, 0] = 0.0  # exact zeros, where the pieces of the activation meet
        got = call(student, name, z, **kwargs)
        what = f"{name}(z{shown}) for {dtype} z of shape (7, 5) with exact zeros"
        assert_tensor(got, getattr(ref, name)(z, **kwargs), **TOLERANCE[dtype], what=what)


@pytest.mark.points(1)
def test_relu(student, rng, device):
    check_activation(student, rng, device, "relu")


@pytest.mark.points(1)
def test_leaky_relu_default_and_other_alpha(student, rng, device):
    check_activation(student, rng, device, "leaky_relu")
    check_activation(student, rng, device, "leaky_relu", alpha=0.2)


@pytest.mark.points(1)
def test_tanh(student, rng, device):
    check_activation(student, rng, device, "tanh")


@pytest.mark.points(1)
def test_elu_default_and_other_alpha(student, rng, device):
    check_activation(student, rng, device, "elu")
    check_activation(student, rng, device, "elu", alpha=0.5)


def check_at_extremes(student, device, name: str, **kwargs) -> None:
    """``name`` at ``extremes``: both signs of magnitudes where a naive formula overflows
    (``exp(z)`` past 88.7 in float32 and 709.8 in float64; ``z + |z|`` at the dtype's
    largest value), and at exact zeros, in float64 and float32."""
    for dtype in DTYPES:
        z = extremes(dtype, device)
        got = call(student, name, z, **kwargs)
        expected = getattr(ref, name)(z, **kwargs)
        what = f"{name}(z) for {dtype} z = ±[0, 1, 30, 100, 800, 1e4, {torch.finfo(dtype).max:.4g}]"
        assert_finite_where_expected(got, expected, z, what=what)
        assert_tensor(got, expected, **TOLERANCE[dtype], what=what)


@pytest.mark.points(1)
@pytest.mark.parametrize("name", ["relu", "leaky_relu", "tanh", "elu"])
def test_activation_at_extreme_inputs(student, device, name):
    check_at_extremes(student, device, name)


# ----------------------------------------------------------------- softmax


def check_softmax(student, z: torch.Tensor, what: str) -> None:
    """Finite, equal to the reference, and summing to 1 over the last dimension."""
    got = call(student, "softmax", z)
    if isinstance(got, torch.Tensor) and not bool(torch.isfinite(got).all()):
        raise AssertionError(f"softmax(z) for {what} returned inf or nan: {got.flatten()[:9].tolist()}")
    tol = tolerance(z.dtype, magnitude=float(z.abs().max()))
    assert_tensor(got, ref.softmax(z), **tol, what=f"softmax(z) for {what}")
    sums = got.sum(dim=-1)
    what = f"softmax(z).sum(dim=-1) for {what} (the sums over the last dimension)"
    assert_tensor(sums, torch.ones_like(sums), **tol, what=what)


@pytest.mark.points(1)
def test_softmax_matches_reference(student, rng, device):
    for dtype in DTYPES:
        z = randn(rng, 6, 9, dtype=dtype, device=device, scale=3.0)
        check_softmax(student, z, f"{dtype} z of shape (6, 9)")


@pytest.mark.points(1)
def test_softmax_over_the_last_dim_of_a_3d_input(student, rng, device):
    for dtype in DTYPES:
        z = randn(rng, 2, 3, 5, dtype=dtype, device=device, scale=2.0)
        check_softmax(student, z, f"{dtype} z of shape (2, 3, 5)")


@pytest.mark.points(2)
def test_softmax_is_finite_at_1e4(student, device):
    logits = [[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 0.0]]
    for dtype in DTYPES:
        check_softmax(student, torch.tensor(logits, dtype=dtype, device=device), f"{dtype} z = {logits}")


def rows_of_different_scale(rng, dtype: torch.dtype, device) -> torch.Tensor:
    """Rows of scale 1e-3, 1 and 1e3 in one batch: only a per-row maximum keeps all finite."""
    scales = torch.tensor([[1e-3], [1.0], [1e3]], dtype=torch.float64)
    z = randn(rng, 3, 5) * scales  # (3, 5)
    z[2, 0] = 2e3  # the largest logit of the batch, far above the first row's
    return z.to(dtype=dtype, device=device)


@pytest.mark.points(1)
def test_softmax_rows_of_very_different_scale(student, rng, device):
    for dtype in DTYPES:
        z = rows_of_different_scale(rng, dtype, device)
        check_softmax(student, z, f"{dtype} z whose rows have scales 1e-3, 1 and 1e3")


# ----------------------------------------------------------------- dense


@pytest.mark.points(1)
def test_dense_distinct_sizes(student, rng, device):
    for dtype in DTYPES:  # n = 6, d_in = 4, d_out = 3: a transposed W cannot fit
        x = randn(rng, 6, 4, dtype=dtype, device=device)
        W = randn(rng, 4, 3, dtype=dtype, device=device)
        b = randn(rng, 3, dtype=dtype, device=device)
        got = call(student, "dense", x, W, b)
        what = f"dense(x, W, b) for {dtype} x (6, 4), W (4, 3), b (3,)"
        assert_tensor(got, ref.dense(x, W, b), **TOLERANCE[dtype], what=what)


# ----------------------------------------------------------------- init_params


def seeded_generator(student, seed: int, device: torch.device):
    """A ``torch.Generator`` in the worker, on ``device``, seeded with ``seed``."""
    return student.lib("torch.Generator", device=str(device)).call_keep("manual_seed", seed)


def layers(params, sizes: list[int], what: str) -> list[tuple]:
    """The ``(W, b)`` pairs of ``params``, after checking there is one per layer."""
    expected = f"{what}: expected a list of {len(sizes) - 1} (W, b) pairs"
    if not isinstance(params, (list, tuple)):
        raise AssertionError(f"{expected}, got a value of type {type(params).__name__}")
    if len(params) != len(sizes) - 1:
        raise AssertionError(f"{expected}, got {len(params)} items")
    for i, pair in enumerate(params):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise AssertionError(f"{what}: layer {i} must be a pair (W, b), got {type(pair).__name__}")
    return [tuple(pair) for pair in params]


def assert_float32_of_shape(t, shape: tuple[int, ...], device: torch.device | None, what: str) -> None:
    """``t`` is a tensor of ``shape`` in torch's default dtype (float32), on ``device`` unless None."""
    if not isinstance(t, torch.Tensor):
        raise AssertionError(f"{what}: expected a torch.Tensor, got a value of type {type(t).__name__}")
    if tuple(t.shape) != shape:
        raise AssertionError(f"{what}: expected shape {shape}, got {tuple(t.shape)}")
    if t.dtype != torch.float32:
        raise AssertionError(f"{what}: expected torch's default dtype torch.float32, got {t.dtype}")
    if device is not None and t.device != device:
        raise AssertionError(f"{what}: expected device {device} (the generator's), got {t.device}")


def init_weights(student, sizes: list[int], what: str, **kwargs) -> list[torch.Tensor]:
    """The weight matrices of ``init_params(sizes, **kwargs)``, each checked to be (d_in, d_out)."""
    params = layers(call(student, "init_params", sizes, **kwargs), sizes, what)
    for i, ((W, _), (d_in, d_out)) in enumerate(zip(params, pairwise(sizes), strict=True)):
        assert_float32_of_shape(W, (d_in, d_out), None, f"{what}: W of layer {i}")
    return [W for W, _ in params]


@pytest.mark.points(1)
def test_init_params_shapes_and_zero_biases(student, seed, device):
    for sizes in ([7, 5, 3], [4, 6, 2, 9]):
        for generator in (None, seeded_generator(student, seed, device)):
            what = f"init_params({sizes}{'' if generator is None else ', generator=g'})"
            on = None if generator is None else device  # without a generator: torch's default device
            params = layers(call(student, "init_params", sizes, generator=generator), sizes, what)
            for i, ((W, b), (d_in, d_out)) in enumerate(zip(params, pairwise(sizes), strict=True)):
                assert_float32_of_shape(W, (d_in, d_out), on, f"{what}: W of layer {i}")
                assert_float32_of_shape(b, (d_out,), on, f"{what}: b of layer {i}")
                if bool(b.any()):
                    raise AssertionError(f"{what}: b of layer {i} must be exactly zero, got {b.tolist()}")


@pytest.mark.points(2)
def test_init_params_is_reproducible_with_a_seeded_generator(student, seed, device):
    # The worker's global RNG moves on between the calls: only a function that draws
    # from `generator` gives the same numbers twice.
    sizes = [6, 4, 3]
    what = f"init_params({sizes}, generator=g)"
    first = init_weights(student, sizes, what, generator=seeded_generator(student, seed, device))
    again = init_weights(student, sizes, what, generator=seeded_generator(student, seed, device))
    for i, (W1, W2) in enumerate(zip(first, again, strict=True)):
        if not torch.equal(W1, W2):
            raise AssertionError(
                f"{what}: W of layer {i} differs between two calls whose generators were seeded alike; "
                "draw every random number from `generator`"
            )
    other = init_weights(student, sizes, what, generator=seeded_generator(student, seed + 1, device))
    if torch.equal(first[0], other[0]):
        raise AssertionError(
            f"{what}: generators seeded differently gave the same W; draw every random number from "
            "`generator`, and do not reseed inside the function"
        )


def assert_variance(W: torch.Tensor, variance: float, what: str) -> None:
    """``mean(W**2)`` is ``variance``, up to what chance allows (false alarms: ``ALPHA``).

    For ``W ~ N(0, s^2)``, ``X = sum(W**2) / s^2`` has the chi-square distribution with
    ``N = W.numel()`` degrees of freedom, whose CDF is ``gammainc(N/2, X/2)``. The check
    fails when the two-sided p-value ``2 min(P(chi2 <= X), P(chi2 >= X))`` is below
    ``ALPHA``, which for a correct init happens with probability ``ALPHA``, exactly.
    """
    n = W.numel()
    x = (W.cpu().double() ** 2).sum() / variance  # ~ chi2(n)
    half_n = torch.tensor(n / 2, dtype=torch.float64)
    below, above = torch.special.gammainc(half_n, x / 2), torch.special.gammaincc(half_n, x / 2)
    p = 2 * float(torch.minimum(below, above))
    ratio = float(x) / n
    if p < ALPHA:
        raise AssertionError(
            f"{what}: mean(W**2) = {ratio * variance:.5g}, expected s**2 = {variance:.5g} "
            f"(ratio {ratio:.3f}); a correct init is this far off with probability {p:.1e}"
        )


@pytest.mark.points(1)
def test_init_params_kaiming_variance(student, seed, device):
    """W of every layer has variance 2 / d_in, with the default init.

    Two layers of N = 240 000 and 100 000 weights, each checked by ``assert_variance``
    at ALPHA = 5e-7: a correct init fails this test with probability
    1 - (1 - 5e-7)**2 < 1e-6. It accepts mean(W**2) / (2 / d_in) in [0.986, 1.015]
    (N = 240 000) and [0.978, 1.023] (N = 100 000); 1 / d_in gives 0.5, 2 / d_out 1.5
    and 1.6.
    """
    sizes = [600, 400, 250]
    what = f"init_params({sizes}, generator=g) (kaiming by default)"
    weights = init_weights(student, sizes, what, generator=seeded_generator(student, seed, device))
    for i, (W, (d_in, _)) in enumerate(zip(weights, pairwise(sizes), strict=True)):
        assert_variance(W, 2 / d_in, f"{what}, W of layer {i}, s**2 = 2 / d_in = 2 / {d_in}")


@pytest.mark.points(1)
def test_init_params_xavier_variance(student, seed, device):
    """W of every layer has variance 2 / (d_in + d_out).

    Two layers of N = 210 000 and 105 000 weights, each checked by ``assert_variance``
    at ALPHA = 5e-7: a correct init fails this test with probability < 1e-6. It accepts
    mean(W**2) / s**2 in [0.985, 1.016] and [0.978, 1.022]; 1 / (d_in + d_out) gives 0.5,
    Kaiming's 2 / d_in 3.3 and 1.2.
    """
    sizes = [300, 700, 150]
    what = f"init_params({sizes}, init='xavier', generator=g)"
    generator = seeded_generator(student, seed, device)
    weights = init_weights(student, sizes, what, init="xavier", generator=generator)
    for i, (W, (d_in, d_out)) in enumerate(zip(weights, pairwise(sizes), strict=True)):
        shown = f"s**2 = 2 / (d_in + d_out) = 2 / {d_in + d_out}"
        assert_variance(W, 2 / (d_in + d_out), f"{what}, W of layer {i}, {shown}")


def ks_distance(z: torch.Tensor) -> tuple[float, float]:
    """The Kolmogorov-Smirnov distance ``sup |F_N(x) - Phi(x)|`` of ``z`` from N(0, 1), and its ``x``."""
    z, _ = z.cpu().double().flatten().sort()  # (N,)
    n = z.numel()
    cdf = torch.special.ndtr(z)  # Phi at each sample
    after = torch.arange(1, n + 1, dtype=torch.float64) / n - cdf  # F_N just after z_i, minus Phi
    before = cdf - torch.arange(0, n, dtype=torch.float64) / n  # Phi, minus F_N just before z_i
    gaps = torch.maximum(after, before)
    worst = int(gaps.argmax())
    return float(gaps[worst]), float(z[worst])


def assert_standard_normal(z: torch.Tensor, what: str) -> None:
    """``z`` looks like N(0, 1) draws: its empirical CDF stays within ``eps`` of Phi.

    By the Dvoretzky-Kiefer-Wolfowitz inequality with Massart's constant, N independent
    N(0, 1) draws have P(sup |F_N - Phi| > eps) <= 2 exp(-2 N eps^2), for every N (no
    asymptotics). ``eps`` solves 2 exp(-2 N eps^2) = ALPHA, so a correct init fails
    this check with probability at most ``ALPHA``.
    """
    n = z.numel()
    eps = math.sqrt(math.log(2 / ALPHA) / (2 * n))
    distance, at = ks_distance(z)
    if distance > eps:
        z = z.cpu().double()
        kurtosis = float((z**4).mean() / (z**2).mean() ** 2)
        raise AssertionError(
            f"{what}: W / s does not look like N(0, 1) draws: its empirical CDF is {distance:.3f} "
            f"away from the normal CDF at W / s = {at:.2f} (a correct init stays within {eps:.4f}). "
            f"Its kurtosis is {kurtosis:.2f} (normal: 3, uniform: 1.8) and mean(W**2) / s**2 is "
            f"{float((z**2).mean()):.3f}. Draw W from a normal distribution (torch.randn), not torch.rand."
        )


@pytest.mark.points(2)
def test_init_params_draws_from_a_normal(student, seed, device):
    """W / s is N(0, 1), for kaiming and for xavier: a uniform of the right variance fails.

    One layer per init, of N = 150 000 and 100 000 weights, each checked by
    ``assert_standard_normal`` at ALPHA = 5e-7 (eps = 0.0071 and 0.0087): a correct init
    fails this test with probability at most 1e-6 (the exact Kolmogorov tail at these
    eps is 4.9e-7 per check: the bound is tight). A uniform distribution of the right
    variance is 0.057 away from the normal CDF (at W / s = 0.80), 6.5 to 8 times eps.
    """
    for init, sizes, variance in [("kaiming", [500, 300], 2 / 500), ("xavier", [400, 250], 2 / 650)]:
        what = f"init_params({sizes}, init={init!r}, generator=g)"
        generator = seeded_generator(student, seed, device)
        (W,) = init_weights(student, sizes, what, init=init, generator=generator)
        assert_standard_normal(W / math.sqrt(variance), what)


# ----------------------------------------------------------------- the MLP


def mlp_params(rng, sizes: list[int], dtype: torch.dtype, device) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Random ``(W, b)`` pairs with non-zero biases, so that a bias lost or misplaced shows."""
    params = []
    for d_in, d_out in pairwise(sizes):
        W = randn(rng, d_in, d_out, dtype=dtype, device=device, scale=1.5 / math.sqrt(d_in))
        b = randn(rng, d_out, dtype=dtype, device=device, scale=0.5)
        params.append((W, b))
    return params


@pytest.mark.points(1)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_forward_each_activation(student, rng, device, activation):
    for dtype in DTYPES:
        x = randn(rng, 7, MLP_SIZES[0], dtype=dtype, device=device, scale=2.0)
        params = mlp_params(rng, MLP_SIZES, dtype, device)
        got = call(student, "mlp_forward", x, params, activation=activation)
        what = f"mlp_forward(x, params, activation={activation!r}) for {dtype} x (7, 6), sizes {MLP_SIZES}"
        assert_tensor(got, ref.mlp_forward(x, params, activation), **TOLERANCE[dtype], what=what)


@pytest.mark.points(1)
def test_mlp_forward_last_layer_is_linear(student, rng, device):
    x = randn(rng, 7, 4, device=device)
    params = mlp_params(rng, [4, 3], torch.float64, device)  # one layer, no hidden layer at all
    got = call(student, "mlp_forward", x, params, activation="tanh")
    what = "mlp_forward(x, [(W, b)], activation='tanh'): a single layer is dense only"
    assert_tensor(got, ref.dense(x, *params[0]), **TOLERANCE[torch.float64], what=what)

    x = randn(rng, 7, MLP_SIZES[0], device=device)
    params = mlp_params(rng, MLP_SIZES, torch.float64, device)
    W_out, b_out = params[-1]
    params[-1] = (W_out, b_out - 3.0)  # mostly negative logits: a ReLU on them would show
    got = call(student, "mlp_forward", x, params, activation="relu")
    expected = ref.mlp_forward(x, params, "relu")
    what = "mlp_forward(x, params, activation='relu'), whose logits are mostly negative"
    if isinstance(got, torch.Tensor) and got.shape == expected.shape and bool((got >= 0).all()):
        raise AssertionError(f"{what}, returned no negative logit: the last layer applies dense only")
    assert_tensor(got, expected, **TOLERANCE[torch.float64], what=what)


@pytest.mark.points(1)
def test_mlp_forward_default_activation_is_relu(student, rng, device):
    x = randn(rng, 7, MLP_SIZES[0], device=device, scale=2.0)
    params = mlp_params(rng, MLP_SIZES, torch.float64, device)
    got = call(student, "mlp_forward", x, params)
    what = "mlp_forward(x, params), activation='relu' by default"
    assert_tensor(got, ref.mlp_forward(x, params, "relu"), **TOLERANCE[torch.float64], what=what)


@pytest.mark.points(1)
def test_predict_proba(student, rng, device):
    for dtype in DTYPES:
        x = randn(rng, 7, MLP_SIZES[0], dtype=dtype, device=device, scale=2.0)
        params = mlp_params(rng, MLP_SIZES, dtype, device)
        got = call(student, "predict_proba", x, params, activation="tanh")
        what = f"predict_proba(x, params, activation='tanh') for {dtype} x (7, 6)"
        assert_tensor(got, ref.predict_proba(x, params, "tanh"), **TOLERANCE[dtype], what=what)
        ones = torch.ones(7, dtype=dtype, device=device)
        assert_tensor(got.sum(dim=-1), ones, **TOLERANCE[dtype], what=f"the row sums of {what}")


# ----------------------------------------------------------------- losses


@pytest.mark.points(1)
def test_mse_loss(student, rng, device):
    for dtype in DTYPES:
        for size in [(6, 3), (8,)]:
            y_hat = randn(rng, *size, dtype=dtype, device=device)
            y = randn(rng, *size, dtype=dtype, device=device)
            got = call(student, "mse_loss", y_hat, y)
            what = f"mse_loss(y_hat, y) for {dtype} y_hat, y of shape {size}: the mean over all elements, 0-d"
            assert_tensor(got, ref.mse_loss(y_hat, y), **TOLERANCE[dtype], what=what)


@pytest.mark.points(1)
def test_mse_loss_at_large_magnitudes(student, rng, device):
    # Targets of size 1e6, both signs, errors of size 1: (y_hat - y)**2 is exact enough, but
    # y_hat**2 - 2 * y_hat * y + y**2 subtracts numbers of size 1e12 and keeps only rounding.
    for dtype in DTYPES:
        y = randn(rng, 6, 3, scale=1e6)
        y_hat = (y + randn(rng, 6, 3)).to(dtype=dtype, device=device)
        y = y.to(dtype=dtype, device=device)
        got = call(student, "mse_loss", y_hat, y)
        what = f"mse_loss(y_hat, y) for {dtype} y of size 1e6 and y_hat - y of size 1"
        assert_tensor(got, ref.mse_loss(y_hat, y), **TOLERANCE[dtype], what=what)


def labels(rng, n: int, n_classes: int, device) -> torch.Tensor:
    """Class indices, shape (n,), dtype torch.long."""
    return torch.randint(n_classes, (n,), generator=rng).to(device)


@pytest.mark.points(1)
def test_cross_entropy_matches_reference(student, rng, device):
    for dtype in DTYPES:
        logits = randn(rng, 8, 5, dtype=dtype, device=device, scale=2.0)
        y = labels(rng, 8, 5, device)
        got = call(student, "cross_entropy", logits, y)
        what = f"cross_entropy(logits, y) for {dtype} logits (8, 5): the mean over the batch, 0-d"
        assert_tensor(got, ref.cross_entropy(logits, y), **TOLERANCE[dtype], what=what)


@pytest.mark.points(2)
def test_cross_entropy_is_finite_at_1e4(student, device):
    # Row by row, -log p of the true class is 2e4 (its logit is 2e4 below the top one),
    # 0, log 3 and log 3: the mean is (2e4 + 2 log 3) / 4.
    logits = [[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0], [0.0, 0.0, 0.0], [-1e4, -1e4, -1e4]]
    y = torch.tensor([2, 1, 0, 1], device=device)
    for dtype in DTYPES:
        got = call(student, "cross_entropy", torch.tensor(logits, dtype=dtype, device=device), y)
        expected = torch.tensor((2e4 + 2 * math.log(3)) / 4, dtype=dtype, device=device)
        what = f"cross_entropy(logits, y) for {dtype} logits = {logits}, y = [2, 1, 0, 1]"
        assert_tensor(got, expected, **tolerance(dtype, magnitude=1e4), what=what)


@pytest.mark.points(1)
def test_cross_entropy_rows_of_very_different_scale(student, rng, device):
    for dtype in DTYPES:
        logits = rows_of_different_scale(rng, dtype, device)
        y = labels(rng, 3, 5, device)
        got = call(student, "cross_entropy", logits, y)
        what = f"cross_entropy(logits, y) for {dtype} logits whose rows have scales 1e-3, 1 and 1e3"
        tol = tolerance(dtype, magnitude=float(logits.abs().max()))
        assert_tensor(got, ref.cross_entropy(logits, y), **tol, what=what)
