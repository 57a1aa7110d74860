"""The loss of a layer list reuses the layers a perturbation cannot have changed, and gives the
whole forward's value bit for bit; a layer that reads more than its input and its own parameters
turns the reuse off."""

import numpy as np
import pytest

from gradcheck import adapters, check_gradients
from gradcheck.adapters.prefix import ForwardMemo
from tests.corpus.shapes import conv_pool, glue


def _network(**kwargs):
    net = conv_pool.build(seed=0, size=8, filters=3, classes=4, stride=2, batch=4, **kwargs)
    rng = np.random.default_rng(1)
    X = rng.standard_normal(net.input_shape)
    y = rng.integers(0, net.classes, len(X))
    return net, X, y


def _whole(net, X, y):
    return net.criterion.forward(net.forward(X), y)


def test_the_loss_is_the_whole_forward_bit_for_bit_as_any_parameter_moves():
    net, X, y = _network()
    target = glue.conv_pool(net)
    rng = np.random.default_rng(2)
    for _ in range(40):
        name = rng.choice(sorted(target.params))
        array = target.params[name]
        index = np.unravel_index(rng.integers(array.size), array.shape)
        saved = array[index]
        array[index] += rng.choice([-1e-3, 1e-3])
        assert target.loss(X, y) == _whole(net, X, y)
        array[index] = saved
        assert target.loss(X, y) == _whole(net, X, y)
    assert target._memo.reuses > 0 and target._memo.note is None


def test_moving_the_last_layer_runs_only_the_last_layer():
    net, X, y = _network()
    target = glue.conv_pool(net)
    target.loss(X, y)
    W = target.params["W3"]
    W[0, 0] += 1e-3
    target.loss(X, y)  # the first reuse of its kind is checked against the whole forward
    runs = target._memo.runs
    W[0, 0] -= 2e-3
    target.loss(X, y)
    assert target._memo.runs - runs == 1


def test_a_new_input_runs_every_layer():
    net, X, y = _network()
    target = glue.conv_pool(net)
    target.loss(X, y)
    runs = target._memo.runs
    assert target.loss(X + 1.0, y) == _whole(net, X + 1.0, y)
    assert target._memo.runs - runs == len(net.layers)


class Scale:
    """y = x * w, with w a 1-element parameter."""

    def __init__(self, w):
        self.w = np.array([w])

    def forward(self, x):
        return x * self.w[0]


class ScaleByAnother(Scale):
    """Reads another layer's parameter through a reference of its own: more than its own arrays."""

    def __init__(self, other):
        super().__init__(1.0)
        self.other = other

    def forward(self, x):
        return x * self.w[0] * self.other.w[0]


def _memo(layers):
    return ForwardMemo(layers, lambda layer, X: layer.forward(X), lambda layer: [("w", "w")], getattr)


def test_a_layer_reading_a_later_layer_parameter_turns_the_reuse_off():
    last = Scale(3.0)
    layers = [ScaleByAnother(last), Scale(2.0), last]
    memo = _memo(layers)
    X = np.ones(3)
    memo.forward(X)
    last.w[0] = 5.0  # changes the first layer's output too, which the memo cannot see
    assert np.array_equal(memo.forward(X), X * 5.0 * 2.0 * 5.0)
    assert memo.note is not None and "whole forward" in memo.note
    last.w[0] = 7.0
    assert np.array_equal(memo.forward(X), X * 7.0 * 2.0 * 7.0)


def test_a_layer_writing_into_its_input_does_not_spoil_what_is_kept():
    class Inplace(Scale):
        def forward(self, x):
            x *= self.w[0]
            return x

    layers = [Scale(2.0), Inplace(3.0), Scale(0.5)]
    memo = _memo(layers)
    X = np.arange(3.0)
    for w in (3.0, 4.0, 4.0, 3.0):
        layers[1].w[0] = w
        assert np.array_equal(memo.forward(X), X * 2.0 * w * 0.5)


@pytest.mark.parametrize("bug", [None, "conv_dW_kernel_flipped", "pool_gradient_to_all"])
def test_a_gradient_check_finds_the_same_numbers_with_and_without_the_reuse(bug):
    net, X, y = _network(bug=bug)
    results = []
    for reuse in (True, False):
        target = glue.conv_pool(net)
        if not reuse:
            target._memo = None
        results.append(check_gradients(lambda t=target: t.loss(X, y), target.params,
                                       lambda t=target: t.gradients(X, y), mode="full"))
    with_reuse, without = results
    assert with_reuse.failed == without.failed
    for a, b in zip(with_reuse.params, without.params):
        assert (a.name, a.n_loss_evals, a.max_abs_error) == (b.name, b.n_loss_evals, b.max_abs_error)
    assert (bug is None) == with_reuse.passed


def test_a_model_running_its_own_forward_does_not_reuse():
    net, _, _ = _network()

    class Model:
        def __init__(self):
            self.layers, self.loss = net.layers, net.criterion

        def forward(self, X):
            return net.forward(X)

    assert adapters.model(Model(), input_shape=net.input_shape[1:])._memo is None


def test_a_call_with_nothing_changed_runs_the_whole_forward():
    net, X, y = _network()
    target = glue.conv_pool(net)
    target.loss(X, y)
    runs = target._memo.runs
    target.loss(X, y)
    assert target._memo.runs - runs == len(net.layers)
