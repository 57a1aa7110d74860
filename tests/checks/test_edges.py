"""Index errors at an array's edges: a gradient shifted along two axes at once (a padded gradient
cropped from the wrong corner), and a layer input's last positions left without gradient (a loop
over windows stopped one short). Each named where it holds, on arrays and on a convolution layer
of our own checked with ``check_layer``, and nothing named on the look-alikes."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck import check_layer
from gradcheck.checks.structure import Gradient, short_loop, structural_story
from gradcheck.numeric.model import agree

RNG = np.random.default_rng(7)


def _gradient(analytic, numeric, role=None, rtol=1e-7, atol=1e-10):
    analytic, numeric = np.asarray(analytic, float), np.asarray(numeric, float)
    checked = np.ones(analytic.shape, dtype=bool)
    return Gradient("x", analytic, numeric, checked, agree(analytic, numeric, rtol, atol),
                    None, rtol, atol, {}, {}, role)


def _story(analytic, numeric, role=None):
    return structural_story(_gradient(analytic, numeric, role))


def _shift(x, by, axes=(2, 3)):
    """``x`` cropped from the wrong corner: out[..., i, j] = x[..., i - by, j - by], the edge
    filled with values of its own (what the padding's positions received)."""
    out = RNG.normal(size=x.shape)
    dst = [slice(None)] * x.ndim
    src = [slice(None)] * x.ndim
    for axis in axes:
        dst[axis], src[axis] = slice(by, None), slice(None, x.shape[axis] - by)
    out[tuple(dst)] = x[tuple(src)]
    return out


# ---- shifts along two axes --------------------------------------------------------------------
def test_a_small_image_shifted_along_both_axes_is_an_orientation():
    numeric = RNG.normal(size=(2, 3, 3, 3))  # a 3x3 corner: the edge is 5 of each 9 entries
    story = _story(_shift(numeric, 1), numeric)
    assert story.kind == "orientation"
    assert story.data == {"how": "shift", "axes": [2, 3], "by": [1, 1]}


def test_a_shift_by_a_padding_of_two_is_named_with_its_distance():
    numeric = RNG.normal(size=(2, 2, 6, 6))
    story = _story(_shift(numeric, 2), numeric)
    assert story.kind == "orientation" and story.data["by"] == [2, 2]
    assert "2 positions" in story.meaning


def test_a_shift_that_leaves_too_little_of_the_array_names_nothing():
    numeric = RNG.normal(size=(2, 1, 3, 3))  # by 2 along both: 1 entry of 9 per image
    assert _story(_shift(numeric, 2), numeric) is None


def test_a_shift_that_fails_on_one_covered_entry_names_nothing():
    numeric = RNG.normal(size=(2, 3, 3, 3))
    analytic = _shift(numeric, 1)
    analytic[1, 2, 2, 2] += 0.5  # a covered entry the shift does not explain
    assert _story(analytic, numeric) is None


# ---- the last positions never sent back ---------------------------------------------------------
def _band(numeric, k, axis=2, off=None):
    analytic = numeric.copy()
    index = [slice(None)] * numeric.ndim
    index[axis] = slice(numeric.shape[axis] - k, None)
    analytic[tuple(index)] += RNG.normal(size=analytic[tuple(index)].shape) if off is None else off
    return analytic


def test_a_layer_inputs_last_rows_wrong_are_a_short_loop():
    numeric = RNG.normal(size=(2, 2, 6, 6))
    story = _story(_band(numeric, 2), numeric, role="input")
    assert story.kind == "orientation"
    assert story.data == {"how": "short_loop", "axis": 2, "positions": 2}


def test_the_same_band_on_a_parameter_names_nothing():
    """A block of stacked gates whose last block is wrong looks the same: a weight's axes are not
    positions, so only a layer's input is read this way."""
    numeric = RNG.normal(size=(2, 2, 6, 6))
    assert short_loop(_gradient(_band(numeric, 2), numeric)) is None


@pytest.mark.parametrize("case", ["band too wide", "band differs by example", "masked entries",
                                  "band at the start"])
def test_look_alikes_of_a_short_loop_name_nothing(case):
    numeric = RNG.normal(size=(3, 2, 6, 6))
    if case == "band too wide":          # half the axis: a split of the input, not a loop bound
        analytic = _band(numeric, 3)
    elif case == "band differs by example":  # padding masks of different lengths
        analytic = _band(numeric, 2)
        analytic[1] = _band(numeric[1:2], 1, axis=2)[0]
    elif case == "masked entries":       # the loss ignores the last rows: routing, not this
        numeric[:, :, -2:] = 0.0
        analytic = _band(numeric, 2)
    else:
        analytic = np.flip(_band(np.flip(numeric, 2), 2), 2)
    assert short_loop(_gradient(analytic, numeric, role="input")) is None


# ---- a convolution layer of our own -----------------------------------------------------------
class Conv:
    """A 3x3 convolution with zero padding 1 and stride 1 over NCHW batches; ``bug`` writes a
    mistake into the input gradient: ``"crop"`` crops the padded gradient from the wrong corner,
    ``"short"`` stops the loop over window rows one short."""

    def __init__(self, channels=2, filters=3, bug=None):
        rng = np.random.default_rng(0)
        self.W = rng.normal(size=(filters, channels, 3, 3)) / 3
        self.b = rng.normal(size=filters)
        self.bug = bug

    def forward(self, x):
        self.x_pad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        n, _, h, w = x.shape
        out = np.empty((n, self.W.shape[0], h, w))
        for i in range(h):
            for j in range(w):
                window = self.x_pad[:, :, i:i + 3, j:j + 3].reshape(n, -1)
                out[:, :, i, j] = window @ self.W.reshape(len(self.W), -1).T + self.b
        return out

    def backward(self, dout):
        n, _, h, w = dout.shape
        dx_pad = np.zeros_like(self.x_pad)
        rows = self.W.reshape(len(self.W), -1)
        self.dW = np.zeros_like(self.W)
        for i in range(h):
            for j in range(w):
                window = self.x_pad[:, :, i:i + 3, j:j + 3]
                self.dW += (dout[:, :, i, j].T @ window.reshape(n, -1)).reshape(self.W.shape)
                if self.bug == "short" and i == h - 1:
                    continue
                dx_pad[:, :, i:i + 3, j:j + 3] += (dout[:, :, i, j] @ rows).reshape(window.shape)
        self.db = dout.sum(axis=(0, 2, 3))
        return dx_pad[:, :, :h, :w] if self.bug == "crop" else dx_pad[:, :, 1:h + 1, 1:w + 1]


def _layer_check(bug, size):
    layer = Conv(bug=bug)
    x = np.random.default_rng(1).normal(size=(2, 2, size, size))
    return check_layer(layer.forward, layer.backward, x, {"W": layer.W, "b": layer.b},
                       param_grads=lambda: {"W": layer.dW, "b": layer.db})


def test_the_correct_convolution_passes():
    assert _layer_check(None, 3).passed and _layer_check(None, 6).passed


@pytest.mark.parametrize("size", [3, 6])
def test_a_convolution_cropping_its_padded_gradient_from_the_corner(size):
    result = _layer_check("crop", size)
    failing = {f.subject: f for f in result.findings if f.is_failure}
    assert set(failing) == {"input"}
    assert failing["input"].kind == "orientation" and failing["input"].data["how"] == "shift"
    assert failing["input"].data["by"] == [1, 1]


def test_a_convolution_whose_window_loop_stops_one_short():
    result = _layer_check("short", 6)
    failing = {f.subject: f for f in result.findings if f.is_failure}
    assert set(failing) == {"input"}
    assert failing["input"].kind == "orientation"
    assert failing["input"].data == {"how": "short_loop", "axis": 2, "positions": 2}


def test_a_short_loop_on_a_corner_too_small_to_tell_names_nothing():
    """On 3 rows the last window's 2 rows are most of the image: no cause is named."""
    result = _layer_check("short", 3)
    failing = {f.subject: f for f in result.findings if f.is_failure}
    assert failing["input"].kind == "mismatch"


# ---- a network's layer checked on a wider corner when its small one cannot tell -------------------
def _network_with_a_short_loop(size):
    """conv_pool's network whose first convolution drops its last row of windows in the backward
    (the upstream gradient's last row never reaches the input, the weights or the bias)."""
    from tests.corpus.shapes import conv_pool

    net = conv_pool.build(size=size)
    conv = net.layers[0]
    backward = conv.backward

    def short(dout):
        dout = dout.copy()
        dout[:, :, -1, :] = 0.0
        return backward(dout)

    conv.backward = short
    return net


def test_a_layer_whose_small_corner_cannot_tell_is_checked_again_on_a_wider_one():
    from gradcheck import adapters, run_suite

    net = _network_with_a_short_loop(12)
    target = adapters.layer_objects(net.layers, net.criterion, input_shape=net.input_shape[1:])
    suite = run_suite(target, groups=("gradients",))
    conv = next(o for o in suite.outcomes if o.name.startswith("check_layer1"))
    failing = {f.subject: f for f in conv.result.findings if f.is_failure}
    assert failing["input"].kind == "orientation" and failing["input"].data["how"] == "short_loop"
    again = [note for note in conv.result.notes if "checked again on" in note]
    assert again and "(2, 1, 3, 3)" in again[0] and "(2, 1, 9, 9)" in again[0]
