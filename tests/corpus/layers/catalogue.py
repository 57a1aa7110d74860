"""What the layer corpus holds: every correct layer kind with example arguments, and every bug
with the gradients it makes wrong.

``LAYERS[kind]`` describes a function-pair layer: its forward and backward, a function
``example_args(seed, dtype)`` returning the forward's arguments by name (in the forward's order),
which of them are differentiable float arrays and which are fixed (integer indices, masks,
setting dicts). In the dict style the differentiable weights live inside the ``parameters``
dict and are named by their keys ("Wax"); the backward returns "d" + name for each.

``BUGS`` lists :class:`LayerBug` entries. ``wrong`` names the arguments whose gradients the bug
makes wrong, as the forward names them; ``cause`` is one word from :data:`CAUSES`; ``words``
are words (lower case) a good hint about the bug should contain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.corpus.layers import buggy_layers as bl
from tests.corpus.layers import course_layers as cl
from tests.corpus.layers import dict_style as ds

#: A backward's result maps to argument names as a tuple in the forward's order ("tuple"), as a
#: dict keyed "d" + name ("dict"), or the forward is a loss returning (loss, dx) ("loss").
STYLES = ("tuple", "dict", "loss")

CAUSES = ("reduction", "scale", "mask", "routing", "missing_term", "recurrent_term", "index",
          "orientation", "derivative", "sign")


@dataclass(frozen=True)
class Layer:
    kind: str
    forward: Callable
    backward: Callable | None
    example_args: Callable[[int, Any], dict]
    differentiable: tuple[str, ...]
    fixed: tuple[str, ...] = ()
    style: str = "tuple"
    #: how many leading outputs the backward takes upstream gradients for (None: all of them)
    upstream: int | None = None


@dataclass(frozen=True)
class LayerBug:
    kind: str
    name: str
    forward: Callable
    backward: Callable | None
    wrong: frozenset
    cause: str
    words: tuple[str, ...]


def _rng(seed):
    return np.random.default_rng(seed)


def _away_from_zero(rng, shape, low=0.1, high=1.5):
    """Values whose magnitude is at least ``low``: no finite-difference step crosses ReLU's kink."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


# ---- example arguments: small, but with strides, padding, several steps and examples -------

def affine_args(seed, dtype):
    r = _rng(seed)
    return {"x": r.standard_normal((4, 2, 3)).astype(dtype),
            "w": (0.5 * r.standard_normal((6, 3))).astype(dtype),
            "b": (0.1 * r.standard_normal(3)).astype(dtype)}


def relu_args(seed, dtype):
    return {"x": _away_from_zero(_rng(seed), (3, 5)).astype(dtype)}


def conv_args(seed, dtype):
    r = _rng(seed)
    # 5x5 input, 3x3 filters, stride 2, pad 1: a 3x3 output whose windows overlap the padding
    return {"x": r.standard_normal((2, 3, 5, 5)).astype(dtype),
            "w": (0.3 * r.standard_normal((3, 3, 3, 3))).astype(dtype),
            "b": (0.1 * r.standard_normal(3)).astype(dtype),
            "conv_param": {"stride": 2, "pad": 1}}


def max_pool_args(seed, dtype):
    r = _rng(seed)
    # distinct values 0.05 apart: no step of the check changes which entry is a window's max;
    # 3x3 windows at stride 2 overlap, so one entry can be the max of two windows
    x = (0.05 * r.permutation(2 * 2 * 5 * 5) - 2.5).reshape(2, 2, 5, 5)
    return {"x": x.astype(dtype), "pool_param": {"pool_height": 3, "pool_width": 3, "stride": 2}}


def batchnorm_args(seed, dtype):
    r = _rng(seed)
    return {"x": (2 * r.standard_normal((5, 4)) + 1).astype(dtype),
            "gamma": (1 + 0.2 * r.standard_normal(4)).astype(dtype),
            "beta": (0.2 * r.standard_normal(4)).astype(dtype),
            "bn_param": {"mode": "train", "eps": 1e-5, "momentum": 0.9}}


def spatial_batchnorm_args(seed, dtype):
    r = _rng(seed)
    return {"x": (1.5 * r.standard_normal((2, 3, 3, 3)) - 0.5).astype(dtype),
            "gamma": (1 + 0.2 * r.standard_normal(3)).astype(dtype),
            "beta": (0.2 * r.standard_normal(3)).astype(dtype),
            "bn_param": {"mode": "train", "eps": 1e-5, "momentum": 0.9}}


def layernorm_args(seed, dtype):
    r = _rng(seed)
    return {"x": (2 * r.standard_normal((4, 5)) + 0.5).astype(dtype),
            "gamma": (1 + 0.2 * r.standard_normal(5)).astype(dtype),
            "beta": (0.2 * r.standard_normal(5)).astype(dtype),
            "ln_param": {"eps": 1e-5}}


def dropout_args(seed, dtype):
    r = _rng(seed)
    return {"x": r.standard_normal((4, 6)).astype(dtype),
            "dropout_param": {"p": 0.6, "mode": "train", "seed": 100 + seed}}


def softmax_loss_args(seed, dtype):
    r = _rng(seed)
    return {"x": r.standard_normal((5, 4)).astype(dtype), "y": r.integers(0, 4, size=5)}


def svm_loss_args(seed, dtype):
    r = _rng(seed)
    rows = np.arange(5)
    while True:
        x = r.standard_normal((5, 4))
        y = r.integers(0, 4, size=5)
        margins = x - x[rows, y][:, None] + 1
        margins[rows, y] = np.inf
        # every margin well away from the hinge, and some on each side of it
        if np.abs(margins).min() > 0.05 and (margins > 0).sum() > 3 and (margins < 0).sum() > 3:
            return {"x": x.astype(dtype), "y": y}


def rnn_step_args(seed, dtype):
    r = _rng(seed)
    return {"x": r.standard_normal((3, 4)).astype(dtype),
            "prev_h": r.standard_normal((3, 5)).astype(dtype),
            "Wx": (0.4 * r.standard_normal((4, 5))).astype(dtype),
            "Wh": (0.4 * r.standard_normal((5, 5))).astype(dtype),
            "b": (0.1 * r.standard_normal(5)).astype(dtype)}


def rnn_args(seed, dtype):
    r = _rng(seed)
    return {"x": r.standard_normal((2, 3, 4)).astype(dtype),
            "h0": r.standard_normal((2, 5)).astype(dtype),
            "Wx": (0.4 * r.standard_normal((4, 5))).astype(dtype),
            "Wh": (0.4 * r.standard_normal((5, 5))).astype(dtype),
            "b": (0.1 * r.standard_normal(5)).astype(dtype)}


def lstm_step_args(seed, dtype):
    r = _rng(seed)
    return {"x": r.standard_normal((3, 4)).astype(dtype),
            "prev_h": r.standard_normal((3, 3)).astype(dtype),
            "prev_c": r.standard_normal((3, 3)).astype(dtype),
            "Wx": (0.5 * r.standard_normal((4, 12))).astype(dtype),
            "Wh": (0.5 * r.standard_normal((3, 12))).astype(dtype),
            "b": (0.2 * r.standard_normal(12)).astype(dtype)}


def lstm_args(seed, dtype):
    r = _rng(seed)
    return {"x": r.standard_normal((2, 3, 4)).astype(dtype),
            "h0": r.standard_normal((2, 3)).astype(dtype),
            "Wx": (0.5 * r.standard_normal((4, 12))).astype(dtype),
            "Wh": (0.5 * r.standard_normal((3, 12))).astype(dtype),
            "b": (0.2 * r.standard_normal(12)).astype(dtype)}


def word_embedding_args(seed, dtype):
    r = _rng(seed)
    x = r.integers(0, 5, size=(2, 4))
    x[1, 2] = x[0, 0]  # a word used twice: its row of dW must sum both gradients
    x[1, 3] = x[1, 2]
    return {"x": x, "W": r.standard_normal((5, 3)).astype(dtype)}


def temporal_affine_args(seed, dtype):
    r = _rng(seed)
    return {"x": r.standard_normal((2, 3, 4)).astype(dtype),
            "w": (0.5 * r.standard_normal((4, 5))).astype(dtype),
            "b": (0.1 * r.standard_normal(5)).astype(dtype)}


def temporal_softmax_loss_args(seed, dtype):
    r = _rng(seed)
    mask = r.random((2, 4)) < 0.7
    mask[:, 0] = True   # every sequence has a first word
    mask[0, -1] = False  # and at least one padded step
    return {"x": r.standard_normal((2, 4, 5)).astype(dtype),
            "y": r.integers(0, 5, size=(2, 4)),
            "mask": mask}


def rnn_cell_args(seed, dtype):
    r = _rng(seed)
    n_x, n_a, n_y, m = 3, 4, 2, 3
    parameters = {"Wax": 0.5 * r.standard_normal((n_a, n_x)), "Waa": 0.5 * r.standard_normal((n_a, n_a)),
                  "Wya": r.standard_normal((n_y, n_a)), "ba": 0.1 * r.standard_normal((n_a, 1)),
                  "by": 0.1 * r.standard_normal((n_y, 1))}
    return {"xt": r.standard_normal((n_x, m)).astype(dtype),
            "a_prev": r.standard_normal((n_a, m)).astype(dtype),
            "parameters": {k: v.astype(dtype) for k, v in parameters.items()}}


def lstm_cell_args(seed, dtype):
    r = _rng(seed)
    n_x, n_a, n_y, m = 3, 4, 2, 3
    parameters = {}
    for gate in "fico":
        parameters["W" + gate] = 0.5 * r.standard_normal((n_a, n_a + n_x))
        parameters["b" + gate] = 0.2 * r.standard_normal((n_a, 1))
    parameters["Wy"] = r.standard_normal((n_y, n_a))
    parameters["by"] = 0.1 * r.standard_normal((n_y, 1))
    return {"xt": r.standard_normal((n_x, m)).astype(dtype),
            "a_prev": r.standard_normal((n_a, m)).astype(dtype),
            "c_prev": r.standard_normal((n_a, m)).astype(dtype),
            "parameters": {k: v.astype(dtype) for k, v in parameters.items()}}


_LSTM_CELL_WEIGHTS = ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")

LAYERS: dict[str, Layer] = {layer.kind: layer for layer in (
    Layer("affine", cl.affine_forward, cl.affine_backward, affine_args, ("x", "w", "b")),
    Layer("relu", cl.relu_forward, cl.relu_backward, relu_args, ("x",)),
    Layer("conv", cl.conv_forward_naive, cl.conv_backward_naive, conv_args, ("x", "w", "b"),
          ("conv_param",)),
    Layer("max_pool", cl.max_pool_forward_naive, cl.max_pool_backward_naive, max_pool_args, ("x",),
          ("pool_param",)),
    Layer("batchnorm", cl.batchnorm_forward, cl.batchnorm_backward, batchnorm_args,
          ("x", "gamma", "beta"), ("bn_param",)),
    Layer("spatial_batchnorm", cl.spatial_batchnorm_forward, cl.spatial_batchnorm_backward,
          spatial_batchnorm_args, ("x", "gamma", "beta"), ("bn_param",)),
    Layer("layernorm", cl.layernorm_forward, cl.layernorm_backward, layernorm_args,
          ("x", "gamma", "beta"), ("ln_param",)),
    Layer("dropout", cl.dropout_forward, cl.dropout_backward, dropout_args, ("x",), ("dropout_param",)),
    Layer("softmax_loss", cl.softmax_loss, None, softmax_loss_args, ("x",), ("y",), style="loss"),
    Layer("svm_loss", cl.svm_loss, None, svm_loss_args, ("x",), ("y",), style="loss"),
    Layer("rnn_step", cl.rnn_step_forward, cl.rnn_step_backward, rnn_step_args,
          ("x", "prev_h", "Wx", "Wh", "b")),
    Layer("rnn", cl.rnn_forward, cl.rnn_backward, rnn_args, ("x", "h0", "Wx", "Wh", "b")),
    Layer("lstm_step", cl.lstm_step_forward, cl.lstm_step_backward, lstm_step_args,
          ("x", "prev_h", "prev_c", "Wx", "Wh", "b")),
    Layer("lstm", cl.lstm_forward, cl.lstm_backward, lstm_args, ("x", "h0", "Wx", "Wh", "b")),
    Layer("word_embedding", cl.word_embedding_forward, cl.word_embedding_backward,
          word_embedding_args, ("W",), ("x",)),
    Layer("temporal_affine", cl.temporal_affine_forward, cl.temporal_affine_backward,
          temporal_affine_args, ("x", "w", "b")),
    Layer("temporal_softmax_loss", cl.temporal_softmax_loss, None, temporal_softmax_loss_args,
          ("x",), ("y", "mask"), style="loss"),
    Layer("rnn_cell", ds.rnn_cell_forward, ds.rnn_cell_backward, rnn_cell_args,
          ("xt", "a_prev", "Wax", "Waa", "ba"), ("Wya", "by"), style="dict", upstream=1),
    Layer("lstm_cell", ds.lstm_cell_forward, ds.lstm_cell_backward, lstm_cell_args,
          ("xt", "a_prev", "c_prev", *_LSTM_CELL_WEIGHTS), ("Wy", "by"), style="dict", upstream=2),
)}


def _bug(kind, name, backward, wrong, cause, words):
    layer = LAYERS[kind]
    if layer.style == "loss":  # the loss function is the copy with the mistake in it
        forward, backward = backward, None
    else:
        forward = layer.forward
    return LayerBug(kind, name, forward, backward, frozenset(wrong), cause, tuple(words))


_RNN = ("x", "h0", "Wx", "Wh", "b")
_RNN_STEP = ("x", "prev_h", "Wx", "Wh", "b")

BUGS: list[LayerBug] = [
    _bug("affine", "affine-db-summed-over-features", bl.affine_backward_b1, {"b"}, "reduction",
         ("axis",)),
    _bug("affine", "affine-dw-divided-by-batch", bl.affine_backward_b2, {"w"}, "scale", ("batch",)),

    _bug("relu", "relu-mask-on-upstream-gradient", bl.relu_backward_b1, {"x"}, "mask", ("mask",)),
    _bug("relu", "relu-mask-on-output-with-ge", bl.relu_backward_b2, {"x"}, "mask", ("mask",)),
    _bug("relu", "relu-derivative-is-the-output", bl.relu_backward_b3, {"x"}, "derivative",
         ("derivative",)),

    _bug("conv", "conv-padding-not-cropped", bl.conv_backward_naive_b1, {"x"}, "index", ("pad",)),
    _bug("conv", "conv-crop-without-pad-offset", bl.conv_backward_naive_b2, {"x"}, "index", ("pad",)),
    _bug("conv", "conv-dw-assigned-not-accumulated", bl.conv_backward_naive_b3, {"w"}, "index",
         ("accumulate",)),
    _bug("conv", "conv-dx-with-flipped-filter", bl.conv_backward_naive_b4, {"x"}, "orientation",
         ("flip",)),

    _bug("max_pool", "max-pool-gradient-to-whole-window", bl.max_pool_backward_naive_b1, {"x"},
         "routing", ("max",)),
    _bug("max_pool", "max-pool-argmax-unravelled-transposed", bl.max_pool_backward_naive_b2, {"x"},
         "index", ("argmax",)),

    _bug("batchnorm", "batchnorm-missing-variance-term", bl.batchnorm_backward_b1, {"x"},
         "missing_term", ("variance",)),
    _bug("batchnorm", "batchnorm-missing-mean-term", bl.batchnorm_backward_b2, {"x"},
         "missing_term", ("mean",)),
    _bug("batchnorm", "batchnorm-dgamma-averaged", bl.batchnorm_backward_b3, {"gamma"}, "scale",
         ("sum",)),

    _bug("spatial_batchnorm", "spatial-batchnorm-reshaped-without-transpose",
         bl.spatial_batchnorm_backward_b1, {"x", "gamma", "beta"}, "orientation", ("transpose",)),
    _bug("spatial_batchnorm", "spatial-batchnorm-transposed-back-wrong",
         bl.spatial_batchnorm_backward_b2, {"x"}, "orientation", ("transpose",)),

    _bug("layernorm", "layernorm-means-over-batch-axis", bl.layernorm_backward_b1, {"x"},
         "reduction", ("axis",)),
    _bug("layernorm", "layernorm-missing-variance-term", bl.layernorm_backward_b2, {"x"},
         "missing_term", ("variance",)),
    _bug("layernorm", "layernorm-dgamma-without-xhat", bl.layernorm_backward_b3, {"gamma"},
         "missing_term", ("normalized",)),

    _bug("dropout", "dropout-backward-without-mask", bl.dropout_backward_b1, {"x"}, "mask", ("mask",)),
    _bug("dropout", "dropout-backward-without-rescale", bl.dropout_backward_b2, {"x"}, "scale",
         ("1/p",)),

    _bug("softmax_loss", "softmax-missing-minus-one-at-label", bl.softmax_loss_b1, {"x"},
         "missing_term", ("label",)),
    _bug("softmax_loss", "softmax-missing-divide-by-n", bl.softmax_loss_b2, {"x"}, "scale", ("1/m",)),
    _bug("softmax_loss", "softmax-gradient-negated", bl.softmax_loss_b3, {"x"}, "sign", ("sign",)),

    _bug("svm_loss", "svm-count-includes-label-margin", bl.svm_loss_b1, {"x"}, "mask", ("margin",)),
    _bug("svm_loss", "svm-missing-divide-by-n", bl.svm_loss_b2, {"x"}, "scale", ("1/m",)),
    _bug("svm_loss", "svm-label-column-not-set", bl.svm_loss_b3, {"x"}, "missing_term", ("label",)),

    _bug("rnn_step", "rnn-step-tanh-derivative-of-output-again", bl.rnn_step_backward_b1, _RNN_STEP,
         "derivative", ("tanh",)),
    _bug("rnn_step", "rnn-step-wh-not-transposed", bl.rnn_step_backward_b2, {"prev_h"}, "orientation",
         ("transpose",)),
    _bug("rnn_step", "rnn-step-dwx-skips-tanh-derivative", bl.rnn_step_backward_b3, {"Wx"},
         "derivative", ("tanh",)),

    _bug("rnn", "rnn-drops-gradient-from-next-step", bl.rnn_backward_b1, _RNN, "recurrent_term",
         ("time",)),
    _bug("rnn", "rnn-dwh-assigned-not-accumulated", bl.rnn_backward_b2, {"Wh"}, "index",
         ("accumulate",)),

    _bug("lstm_step", "lstm-step-forget-gate-tanh-derivative", bl.lstm_step_backward_b1, _RNN_STEP,
         "derivative", ("forget",)),
    _bug("lstm_step", "lstm-step-dprev-c-missing-forget-gate", bl.lstm_step_backward_b2, {"prev_c"},
         "missing_term", ("forget",)),
    _bug("lstm_step", "lstm-step-dc-missing-path-through-h", bl.lstm_step_backward_b3,
         ("x", "prev_h", "prev_c", "Wx", "Wh", "b"), "missing_term", ("cell",)),

    _bug("lstm", "lstm-drops-cell-gradient-from-next-step", bl.lstm_backward_b1, _RNN,
         "recurrent_term", ("cell",)),
    _bug("lstm", "lstm-db-assigned-not-accumulated", bl.lstm_backward_b2, {"b"}, "index",
         ("accumulate",)),

    _bug("word_embedding", "embedding-assignment-loses-repeated-words", bl.word_embedding_backward_b1,
         {"W"}, "index", ("np.add.at",)),
    _bug("word_embedding", "embedding-buffered-plus-equals", bl.word_embedding_backward_b2, {"W"},
         "index", ("np.add.at",)),

    _bug("temporal_affine", "temporal-affine-db-summed-over-batch-only", bl.temporal_affine_backward_b1,
         {"b"}, "reduction", ("axis",)),
    _bug("temporal_affine", "temporal-affine-dw-divided-by-t", bl.temporal_affine_backward_b2, {"w"},
         "scale", ("time",)),

    _bug("temporal_softmax_loss", "temporal-softmax-gradient-ignores-mask",
         bl.temporal_softmax_loss_b1, {"x"}, "mask", ("mask",)),
    _bug("temporal_softmax_loss", "temporal-softmax-divides-by-n-times-t", bl.temporal_softmax_loss_b2,
         {"x"}, "scale", ("time",)),

    _bug("rnn_cell", "rnn-cell-tanh-derivative-not-squared", bl.rnn_cell_backward_b1,
         ("xt", "a_prev", "Wax", "Waa", "ba"), "derivative", ("tanh",)),
    _bug("rnn_cell", "rnn-cell-dba-summed-over-units", bl.rnn_cell_backward_b2, {"ba"}, "reduction",
         ("axis",)),
    _bug("rnn_cell", "rnn-cell-waa-not-transposed", bl.rnn_cell_backward_b3, {"a_prev"}, "orientation",
         ("transpose",)),

    _bug("lstm_cell", "lstm-cell-forget-gate-tanh-derivative", bl.lstm_cell_backward_b1,
         ("xt", "a_prev", "Wf", "bf"), "derivative", ("forget",)),
    _bug("lstm_cell", "lstm-cell-dc-prev-missing-forget-gate", bl.lstm_cell_backward_b2, {"c_prev"},
         "missing_term", ("forget",)),
]
