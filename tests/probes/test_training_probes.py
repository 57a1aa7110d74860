"""Training probes against the reference network and deliberately broken networks."""

import numpy as np
import pytest

from gradcheck.errors import InvalidArgumentError
from gradcheck.probes.runs import sgd_run
from gradcheck.probes.training import (
    probe_activations,
    probe_gradient_flow,
    probe_input_scale,
    probe_learning_rate,
    probe_precision,
)
from reference_net.data import load_mnist
from reference_net.network import build_mlp


@pytest.fixture(scope="module")
def mnist_batch():
    X, y = load_mnist()
    rows = np.random.default_rng(0).choice(len(y), size=64, replace=False)
    return X[rows], y[rows]


class NaiveSoftmaxNet:
    """784-10-10 ReLU net whose softmax is exp(Z) / sum(exp(Z)): raw pixels overflow it."""

    layout = "rows"

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W1": rng.uniform(-0.5, 0.5, (784, 10)), "b1": np.zeros(10),
                       "W2": rng.uniform(-0.5, 0.5, (10, 10)), "b2": np.zeros(10)}

    def activations(self, X):
        p = self.params
        Z1 = X @ p["W1"] + p["b1"]
        A1 = np.maximum(Z1, 0)
        Z2 = A1 @ p["W2"] + p["b2"]
        E = np.exp(Z2)
        return {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": E / E.sum(axis=1, keepdims=True)}

    def loss(self, X, y):
        A2 = self.activations(X)["A2"]
        return float(-np.mean(np.log(A2[np.arange(len(y)), y])))

    def gradients(self, X, y):
        a = self.activations(X)
        m = len(y)
        dZ2 = a["A2"].copy()
        dZ2[np.arange(m), y] -= 1
        dZ2 /= m
        dZ1 = dZ2 @ self.params["W2"].T * (a["Z1"] > 0)
        return {"W1": X.T @ dZ1, "b1": dZ1.sum(0), "W2": a["A1"].T @ dZ2, "b2": dZ2.sum(0)}


class SignFlippedNet(NaiveSoftmaxNet):
    """Gradients with the wrong sign: every learning rate climbs."""

    def gradients(self, X, y):
        return {k: -g for k, g in super().gradients(X, y).items()}


class DeadAtInitNet(NaiveSoftmaxNet):
    """Hidden biases initialised to -100: every ReLU is dead before training starts."""

    def __init__(self, seed=0):
        super().__init__(seed)
        self.params["b1"][:] = -100.0


def _snapshot(params):
    return {k: v.copy() for k, v in params.items()}


def _assert_unchanged(params, before):
    for name, arr in params.items():
        assert arr.tobytes() == before[name].tobytes(), name


def test_reference_network_passes_every_training_probe(mnist_batch):
    net = build_mlp((784, 10, 10), seed=0)
    before = _snapshot(net.params)
    for probe in (probe_input_scale, probe_learning_rate, probe_activations, probe_gradient_flow):
        result = probe(net, *mnist_batch)
        assert result.passed, (probe.__name__, [str(f) for f in result.findings])
    _assert_unchanged(net.params, before)


def test_raw_pixels_break_a_naive_softmax_at_scale_255(mnist_batch):
    net = NaiveSoftmaxNet()
    before = _snapshot(net.params)
    result = probe_input_scale(net, *mnist_batch)
    assert not result.passed
    assert result.breaking_magnitude == 255
    failure = next(f for f in result.findings if f.is_failure)
    assert failure.kind == "nonfinite"
    # traced to the first layer whose output went non-finite, at the first step
    assert failure.data == {"scale": 255.0, "step": 0, "quantity": "activation", "where": "A2"}
    assert "overflow encountered in exp" in failure.message
    _assert_unchanged(net.params, before)


class NaiveSigmoidNet(NaiveSoftmaxNet):
    """Hidden sigmoid 1 / (1 + exp(-z)) with a stable softmax: at x255 exp(-z) overflows to inf,
    the sigmoid rounds to 0 and every value stays finite, with NumPy's RuntimeWarning."""

    def activations(self, X):
        p = self.params
        Z1 = X @ p["W1"] + p["b1"]
        A1 = 1 / (1 + np.exp(-Z1))
        Z2 = A1 @ p["W2"] + p["b2"]
        E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
        return {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": E / E.sum(axis=1, keepdims=True)}

    def gradients(self, X, y):
        a = self.activations(X)
        m = len(y)
        dZ2 = a["A2"].copy()
        dZ2[np.arange(m), y] -= 1
        dZ2 /= m
        dZ1 = dZ2 @ self.params["W2"].T * a["A1"] * (1 - a["A1"])
        return {"W1": X.T @ dZ1, "b1": dZ1.sum(0), "W2": a["A1"].T @ dZ2, "b2": dZ2.sum(0)}


def test_an_exp_that_overflows_at_x255_into_finite_values_warns_and_says_what_it_assumed(mnist_batch):
    """exp(-z) overflowing to inf inside 1/(1+exp(-z)) gives exactly 0, the right value: a
    hazard worth a warning, not evidence of a bug."""
    result = probe_input_scale(NaiveSigmoidNet(), *mnist_batch)
    assert result.passed and result.breaking_magnitude is None
    warning = next(f for f in result.findings if f.kind == "overflow" and f.data["scale"] == 255.0)
    assert warning.severity == "warning" and warning.data["step"] == 0
    assert "overflow encountered in exp" in warning.message
    assert "every loss and gradient stayed finite" in warning.message  # what happened
    assert "taken as an intermediate saturating to its right limit" in warning.message  # assumed
    assert "sigmoid from exp(-|z|)" in warning.hint


def test_reference_network_survives_raw_pixels_but_is_told_they_spoil_training(mnist_batch):
    result = probe_input_scale(build_mlp((784, 10, 10), seed=0), *mnist_batch)
    assert result.passed and result.breaking_magnitude is None
    warned = {f.data["scale"] for f in result.findings if f.kind == "divergence"}
    assert 255.0 in warned
    assert set(result.series) == {"scale 1", "scale 255", "scale 10000"}


def test_sign_flipped_gradients_fail_the_descent_test(mnist_batch):
    result = probe_learning_rate(SignFlippedNet(), *mnist_batch)
    assert not result.passed
    failure = next(f for f in result.findings if f.is_failure)
    assert "point uphill" in failure.message
    assert failure.data["limit"] == pytest.approx(-1.0, abs=1e-3)


class DoubledGradientNet(NaiveSoftmaxNet):
    """Every gradient twice too large: descent still lowers the loss, but by half the prediction."""

    def gradients(self, X, y):
        return {k: 2 * g for k, g in super().gradients(X, y).items()}


class SlowToFitNet(NaiveSoftmaxNet):
    """A correct network with weights so small that 20 steps at any rate barely move the loss."""

    def __init__(self, seed=0):
        super().__init__(seed)
        for arr in self.params.values():
            arr *= 1e-6


def test_a_gradient_twice_too_large_settles_at_ratio_one_half(mnist_batch):
    result = probe_learning_rate(DoubledGradientNet(), *mnist_batch, rates=(0.1,), steps=3)
    assert not result.passed
    assert next(f for f in result.findings if f.is_failure).data["limit"] == pytest.approx(0.5, abs=1e-3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_network_that_cannot_fit_the_batch_is_warned_not_failed(mnist_batch, dtype):
    net = SlowToFitNet()
    for name in net.params:
        net.params[name] = net.params[name].astype(dtype)
    X, y = mnist_batch
    result = probe_learning_rate(net, X.astype(dtype), y, rates=(1e-3, 1e-2))
    assert result.passed, [str(f) for f in result.findings]
    descent = result.findings[0]
    assert descent.data["verdict"] == "downhill" and descent.severity == "info"
    slow = next(f for f in result.findings if f.severity == "warning")
    assert "assumes the network can fit the batch" in slow.message


def test_a_nondeterministic_loss_skips_the_descent_test_with_the_reason(mnist_batch):
    class Noisy(NaiveSoftmaxNet):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(1)

        def loss(self, X, y):
            return super().loss(X, y) + 1e-3 * self.rng.standard_normal()

    result = probe_learning_rate(Noisy(), *mnist_batch, rates=(0.1,), steps=2)
    skipped = result.findings[0]
    assert skipped.data["verdict"] == "nondeterministic" and skipped.data["skipped"]
    assert not skipped.is_failure and "not repeatable" in skipped.message


def test_learning_rate_sweep_reports_divergence_onset_and_clipping(mnist_batch):
    result = probe_learning_rate(build_mlp((784, 10, 10), seed=0), *mnist_batch,
                                 rates=(0.1, 100.0, 1000.0), steps=10)
    assert result.passed
    assert result.breaking_magnitude == 100.0
    onset = next(f for f in result.findings if f.data.get("lr") == 100.0)
    assert onset.kind in {"divergence", "exploding"}
    assert isinstance(onset.data["clipping_saves"], bool)
    assert "lr 100 clipped" in result.series


def test_a_whole_layer_dead_at_initialisation_fails(mnist_batch):
    result = probe_activations(DeadAtInitNet(), *mnist_batch)
    assert not result.passed
    dead = next(f for f in result.findings if f.kind == "dead_relu" and f.data["layer"] == "A1")
    assert dead.data["dead_at_init"] == 1.0
    assert result.series["layer"] == ["Z1", "A1", "Z2", "A2"]


def test_dead_units_on_a_batch_of_one_only_warn(mnist_batch):
    X, y = mnist_batch
    result = probe_activations(DeadAtInitNet(), X[:1], y[:1])
    assert result.passed
    dead = next(f for f in result.findings if f.kind == "dead_relu")
    assert dead.severity == "warning" and "1 examples of this batch" in dead.message


def test_deep_sigmoid_stack_vanishes_where_relu_with_he_does_not(mnist_batch):
    sizes = (784, 32, 32, 32, 32, 32, 32, 32, 32, 10)
    sigmoid = probe_gradient_flow(build_mlp(sizes, hidden="sigmoid", init="xavier"), *mnist_batch)
    relu = probe_gradient_flow(build_mlp(sizes, hidden="relu", init="he"), *mnist_batch)
    # an architecture's property, not a bug: a warning
    assert sigmoid.passed and sigmoid.findings[0].kind == "vanishing"
    assert sigmoid.findings[0].severity == "warning"
    assert sigmoid.breaking_magnitude < 1e-3
    assert relu.passed
    assert relu.series["layer"] == [f"W{i}" for i in range(1, 10)]


def test_float32_agrees_with_float64_on_the_reference_network(mnist_batch):
    result = probe_precision(build_mlp((784, 10, 10), seed=0),
                             build_mlp((784, 10, 10), seed=0, dtype=np.float32), *mnist_batch)
    assert result.passed
    assert max(result.series["rel_difference"]) < 1e-4


def test_precision_flags_a_float32_network_that_upcasts(mnist_batch):
    class Upcasting:
        def __init__(self, net):
            self.net, self.params = net, net.params

        def loss(self, X, y):
            return self.net.loss(X, y)

        def gradients(self, X, y):
            return {k: g.astype(np.float64) for k, g in self.net.gradients(X, y).items()}

    net32 = Upcasting(build_mlp((784, 10, 10), seed=0, dtype=np.float32))
    result = probe_precision(build_mlp((784, 10, 10), seed=0), net32, *mnist_batch)
    assert result.passed  # the values agree; the dtype is a warning
    assert [f.kind for f in result.findings] == ["dtype_mismatch"]


def test_an_exception_in_user_code_is_a_finding_and_restores_parameters(mnist_batch):
    net = NaiveSoftmaxNet()
    before = _snapshot(net.params)
    calls = {"n": 0}
    original = net.gradients

    def flaky(X, y):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("boom at call 3")
        return original(X, y)

    net.gradients = flaky
    run = sgd_run(net, *mnist_batch, lr=0.1, steps=5)
    assert run.error.startswith("step 2: RuntimeError: boom at call 3 at ")
    assert run.error.endswith("test_training_probes.py:279")
    assert run.crash.line == 279 and run.crash.code == 'raise RuntimeError("boom at call 3")'
    _assert_unchanged(net.params, before)


def test_keyboard_interrupt_propagates_after_restoring(mnist_batch):
    net = NaiveSoftmaxNet()
    before = _snapshot(net.params)
    original = net.gradients
    calls = {"n": 0}

    def interrupted(X, y):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(X, y)

    net.gradients = interrupted
    with pytest.raises(KeyboardInterrupt):
        sgd_run(net, *mnist_batch, lr=0.1, steps=5)
    _assert_unchanged(net.params, before)


@pytest.mark.parametrize("kwargs, argument", [
    ({"scales": ()}, "scales"), ({"scales": (1, -2)}, r"scales\[1\]"), ({"lr": 0}, "lr"),
    ({"steps": 2.5}, "steps"), ({"steps": True}, "steps"),
])
def test_bad_probe_arguments_name_the_argument(mnist_batch, kwargs, argument):
    with pytest.raises(InvalidArgumentError, match=argument):
        probe_input_scale(NaiveSoftmaxNet(), *mnist_batch, **kwargs)


class UnclippedLogNet(NaiveSoftmaxNet):
    """Softmax shifted by its row maximum, but the loss takes -log(P) unclipped: at x255 one
    probability rounds to exactly 0 and the loss is inf."""

    def activations(self, X):
        p = self.params
        Z1 = X @ p["W1"] + p["b1"]
        A1 = np.maximum(Z1, 0)
        Z2 = A1 @ p["W2"] + p["b2"]
        E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
        return {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": E / E.sum(axis=1, keepdims=True)}


def test_an_inf_from_log_of_zero_gets_the_log_hint_not_the_softmax_one(mnist_batch):
    result = probe_input_scale(UnclippedLogNet(), *mnist_batch)
    failure = next(f for f in result.findings if f.is_failure)
    assert failure.data["scale"] == 255.0
    assert "log of 0" in failure.hint and "Z - Z.max" not in failure.hint


def test_parameters_the_loss_does_not_read_fail_the_descent_test_with_that_reason(mnist_batch):
    class Copies(NaiveSoftmaxNet):
        def __init__(self):
            super().__init__()
            self.live = self.params
            self.params = {k: v.copy() for k, v in self.live.items()}

        def activations(self, X):
            self.params, saved = self.live, self.params
            try:
                return super().activations(X)
            finally:
                self.params = saved

    result = probe_learning_rate(Copies(), *mnist_batch, rates=(0.1,), steps=2)
    failure = next(f for f in result.findings if f.is_failure)
    assert failure.data["verdict"] == "not_read" and "not the arrays your loss reads" in failure.message


def test_a_backward_that_always_raises_is_one_finding_naming_its_line(mnist_batch):
    """The same error met at every rate is said once, with the user's line, not once per rate."""
    net = NaiveSoftmaxNet()

    def broken(X, y):
        raise ValueError("shapes (64,10) and (64,784) not aligned")

    net.gradients = broken
    result = probe_learning_rate(net, *mnist_batch)
    raised = [f for f in result.findings if f.kind == "exception"]
    assert len(raised) == 1 and not result.passed
    assert "test_training_probes.py" in raised[0].hint and "raise ValueError" in raised[0].hint
