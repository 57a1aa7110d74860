"""The smallest input a layer is checked on by itself: a corner of its input in the network, shrunk
along the axes the layer lets shrink, never along one its weights depend on."""

import numpy as np
import pytest

from gradcheck.targets.layers import LayerView
from gradcheck.targets.shrinking import EXAMPLES, smallest_input
from tests.corpus.shapes import conv_pool


def _view(layer):
    return LayerView(type(layer).__name__.lower(), layer)


def _input(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# (layer, full input, the corner it is checked on): labelled known answers
KNOWN = [
    ("conv 3x3 pad 1 stride 1", lambda: conv_pool.Conv(1, 4, 3, 1, 1), (20, 1, 28, 28), (2, 1, 3, 3)),
    # stride 2: 5 rows give the 3 output rows wanted; channels are the weights' business
    ("conv 3x3 pad 1 stride 2", lambda: conv_pool.Conv(4, 4, 3, 2, 1), (20, 4, 28, 28), (2, 4, 5, 5)),
    ("conv 3x3 no pad", lambda: conv_pool.Conv(2, 3, 3, 1, 0), (8, 2, 12, 12), (2, 2, 5, 5)),
    ("max-pool 2, stride 2", lambda: conv_pool.MaxPool(2, 2), (20, 4, 14, 14), (2, 3, 6, 6)),
    ("ReLU", conv_pool.ReLU, (20, 4, 28, 28), (2, 3, 3, 3)),
]


@pytest.mark.parametrize("name, make, full, small", KNOWN, ids=[k[0] for k in KNOWN])
def test_a_layer_is_checked_on_the_smallest_corner_it_takes(name, make, full, small):
    X = _input(full)
    shrunk = smallest_input(_view(make()), X)
    assert shrunk.X.shape == small
    assert np.array_equal(shrunk.X, X[tuple(slice(0, s) for s in small)])
    assert "corner" in shrunk.note


def test_a_flattening_layer_keeps_its_feature_axes_and_says_why():
    linear = conv_pool.Linear(4 * 7 * 7, 10, np.random.default_rng(0))
    shrunk = smallest_input(_view(linear), _input((20, 4, 7, 7)))
    assert shrunk.X.shape == (EXAMPLES, 4, 7, 7)
    assert "no axis that maps" in shrunk.note


class PerPositionScale:
    """Weights over every position of the input (a locally connected layer): no axis can shrink."""

    def __init__(self, shape):
        self.W = np.random.default_rng(0).standard_normal(shape)
        self.dW = np.zeros_like(self.W)

    def forward(self, x):
        self.x = x
        return x * self.W

    def backward(self, dout):
        self.dW = (dout * self.x).sum(axis=0)
        return dout * self.W


class ChannelBias:
    """A bias of shape (C, 1, 1): fewer channels broadcast back to C, an output of another kind."""

    def __init__(self, channels):
        self.b = np.linspace(-1, 1, channels)[:, None, None]
        self.db = np.zeros_like(self.b)

    def forward(self, x):
        return x + self.b

    def backward(self, dout):
        self.db = dout.sum(axis=(0, 2, 3))[:, None, None]
        return dout


def test_a_layer_whose_weights_cover_every_position_keeps_its_size_and_says_why():
    shrunk = smallest_input(_view(PerPositionScale((3, 6, 6))), _input((10, 3, 6, 6)))
    assert shrunk.X.shape == (EXAMPLES, 3, 6, 6)
    assert "raised or changed" in shrunk.note


def test_an_output_broadcast_back_to_the_full_size_is_not_taken():
    shrunk = smallest_input(_view(ChannelBias(4)), _input((10, 4, 6, 6)))
    assert shrunk.X.shape == (EXAMPLES, 4, 3, 3)


def test_a_row_of_features_is_left_as_it_is():
    X = _input((20, 5))
    shrunk = smallest_input(_view(conv_pool.Linear(5, 3, np.random.default_rng(0))), X)
    assert shrunk.X is X and shrunk.note is None


def test_the_trials_leave_the_layer_parameters_bit_for_bit():
    conv = conv_pool.Conv(2, 3, 3, 2, 1)
    before = {"W": conv.W.copy(), "b": conv.b.copy()}
    smallest_input(_view(conv), _input((6, 2, 16, 16)))
    assert conv.W.tobytes() == before["W"].tobytes() and conv.b.tobytes() == before["b"].tobytes()


def test_a_bias_gradient_of_the_wrong_shape_still_shrinks_for_the_check_to_report():
    conv = conv_pool.Conv(1, 4, 3, 1, 1, bug="conv_db_wrong_axis")
    assert smallest_input(_view(conv), _input((20, 1, 28, 28))).X.shape == (2, 1, 3, 3)
