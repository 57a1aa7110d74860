"""Example arguments for the layer kinds of a typical course, at small sizes that still exercise
what each kind gets wrong: strides and padding, several time steps, several examples, a word
used twice, a padded time step.

A layer is known by its name with ``_naive``/``_fast`` left out (``conv`` for
``conv_forward_naive``) and a few spellings folded together (``batch_norm`` is ``batchnorm``).
Values keep away from the places finite differences cannot judge: ReLU inputs and hinge
margins away from 0, max-pool windows whose maximum no step can change.

:func:`example_arguments` returns the arguments by the forward's own names, taken in the
forward's order; a forward taking a different number of arguments, or an unknown kind with more
than one argument, needs its arguments given (the message says how).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Other spellings of the kinds below.
ALIASES = {
    "batch_norm": "batchnorm", "batchnormalization": "batchnorm", "bn": "batchnorm",
    "spatial_batch_norm": "spatial_batchnorm", "layer_norm": "layernorm",
    "maxpool": "max_pool", "max_pooling": "max_pool",
    "fc": "affine", "linear": "affine", "dense": "affine", "embedding": "word_embedding",
    "vanilla_rnn_step": "rnn_step", "vanilla_rnn": "rnn", "svm": "svm_loss",
    "hinge_loss": "svm_loss", "temporal_fc": "temporal_affine",
    "affine_batchnorm_relu": "affine_bn_relu", "affine_layernorm_relu": "affine_ln_relu",
}


def _away_from_zero(rng, shape, low=0.2, high=1.5):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def _affine(rng):
    # a 3-D input: the layer must flatten each example's (2, 4) to 8 features
    return {"x": rng.standard_normal((3, 2, 4)), "w": 0.4 * rng.standard_normal((8, 5)),
            "b": 0.1 * rng.standard_normal(5)}


def _relu(rng):
    return {"x": _away_from_zero(rng, (4, 6))}


def _conv(rng):
    # 5x5 input, 3x3 filters, stride 2, padding 1: a 3x3 output whose border windows read padding
    return {"x": rng.standard_normal((2, 2, 5, 5)), "w": 0.3 * rng.standard_normal((3, 2, 3, 3)),
            "b": 0.1 * rng.standard_normal(3), "conv_param": {"stride": 2, "pad": 1}}


def _max_pool(rng):
    # distinct values 0.04 apart, so no step changes a window's maximum; 3x3 windows at stride 2
    # overlap, so an entry can be the maximum of two windows
    x = 0.04 * (rng.permutation(2 * 3 * 5 * 5) - 75.0)
    return {"x": x.reshape(2, 3, 5, 5),
            "pool_param": {"pool_height": 3, "pool_width": 3, "stride": 2}}


def _batchnorm(rng):
    return {"x": 1.5 * rng.standard_normal((6, 4)) + 0.5, "gamma": 1 + 0.2 * rng.standard_normal(4),
            "beta": 0.2 * rng.standard_normal(4),
            "bn_param": {"mode": "train", "eps": 1e-5, "momentum": 0.9}}


def _spatial_batchnorm(rng):
    return {"x": 1.5 * rng.standard_normal((2, 3, 4, 3)) - 0.5,
            "gamma": 1 + 0.2 * rng.standard_normal(3), "beta": 0.2 * rng.standard_normal(3),
            "bn_param": {"mode": "train", "eps": 1e-5, "momentum": 0.9}}


def _layernorm(rng):
    return {"x": 1.5 * rng.standard_normal((4, 6)) + 0.5, "gamma": 1 + 0.2 * rng.standard_normal(6),
            "beta": 0.2 * rng.standard_normal(6), "ln_param": {"eps": 1e-5}}


def _dropout(rng):
    return {"x": rng.standard_normal((5, 6)), "dropout_param": {"p": 0.6, "mode": "train", "seed": 231}}


def _scores_and_labels(rng, n=6, classes=5):
    return rng.standard_normal((n, classes)), np.arange(n) % classes


def _softmax_loss(rng):
    x, y = _scores_and_labels(rng)
    return {"x": x, "y": rng.permutation(y)}


def _svm_loss(rng):
    rows = np.arange(6)
    while True:  # margins away from the hinge's kink, some on each side of it
        x, y = _scores_and_labels(rng)
        y = rng.permutation(y)
        margins = x - x[rows, y][:, None] + 1
        margins[rows, y] = np.inf
        if np.abs(margins).min() > 0.1 and (margins > 0).sum() >= 4 and (margins < 0).sum() >= 4:
            return {"x": x, "y": y}


def _rnn_step(rng):
    return {"x": rng.standard_normal((3, 4)), "prev_h": rng.standard_normal((3, 5)),
            "Wx": 0.4 * rng.standard_normal((4, 5)), "Wh": 0.4 * rng.standard_normal((5, 5)),
            "b": 0.1 * rng.standard_normal(5)}


def _rnn(rng):
    # 4 time steps: the gradient from later steps must flow back through Wh
    return {"x": rng.standard_normal((2, 4, 3)), "h0": rng.standard_normal((2, 5)),
            "Wx": 0.4 * rng.standard_normal((3, 5)), "Wh": 0.4 * rng.standard_normal((5, 5)),
            "b": 0.1 * rng.standard_normal(5)}


def _lstm_step(rng):
    return {"x": rng.standard_normal((3, 4)), "prev_h": rng.standard_normal((3, 3)),
            "prev_c": rng.standard_normal((3, 3)), "Wx": 0.5 * rng.standard_normal((4, 12)),
            "Wh": 0.5 * rng.standard_normal((3, 12)), "b": 0.2 * rng.standard_normal(12)}


def _lstm(rng):
    return {"x": rng.standard_normal((2, 4, 3)), "h0": rng.standard_normal((2, 3)),
            "Wx": 0.5 * rng.standard_normal((3, 12)), "Wh": 0.5 * rng.standard_normal((3, 12)),
            "b": 0.2 * rng.standard_normal(12)}


def _word_embedding(rng):
    x = rng.integers(0, 6, size=(2, 5))
    x[1, 1] = x[0, 3]  # a word used twice: its row of dW sums both gradients
    x[1, 4] = x[1, 1]
    return {"x": x, "W": rng.standard_normal((6, 4))}


def _temporal_affine(rng):
    return {"x": rng.standard_normal((2, 4, 3)), "w": 0.5 * rng.standard_normal((3, 5)),
            "b": 0.1 * rng.standard_normal(5)}


def _temporal_softmax_loss(rng):
    mask = rng.random((2, 5)) < 0.7
    mask[:, 0] = True  # every sequence has a first word
    mask[1, -1] = False  # and one step is padding
    return {"x": rng.standard_normal((2, 5, 4)), "y": rng.integers(0, 4, size=(2, 5)), "mask": mask}


def _rnn_cell(rng):
    # examples are columns; the weights come in a dict, Wya and by only score the prediction
    n_x, n_a, n_y, m = 3, 4, 2, 5
    return {"xt": rng.standard_normal((n_x, m)), "a_prev": rng.standard_normal((n_a, m)),
            "parameters": {"Wax": 0.5 * rng.standard_normal((n_a, n_x)),
                           "Waa": 0.5 * rng.standard_normal((n_a, n_a)),
                           "Wya": rng.standard_normal((n_y, n_a)),
                           "ba": 0.1 * rng.standard_normal((n_a, 1)),
                           "by": 0.1 * rng.standard_normal((n_y, 1))}}


def _lstm_cell(rng):
    n_x, n_a, n_y, m = 3, 4, 2, 5
    parameters = {}
    for gate in "fico":
        parameters["W" + gate] = 0.5 * rng.standard_normal((n_a, n_a + n_x))
        parameters["b" + gate] = 0.2 * rng.standard_normal((n_a, 1))
    parameters["Wy"] = rng.standard_normal((n_y, n_a))
    parameters["by"] = 0.1 * rng.standard_normal((n_y, 1))
    return {"xt": rng.standard_normal((n_x, m)), "a_prev": rng.standard_normal((n_a, m)),
            "c_prev": rng.standard_normal((n_a, m)), "parameters": parameters}


def _affine_relu(rng):
    return _affine(rng)


def _conv_relu(rng):
    return _conv(rng)


def _conv_relu_pool(rng):
    # stride 1 and padding 1 keep the 4x4 image; 2x2 pooling at stride 2 tiles it exactly
    return {"x": rng.standard_normal((2, 2, 4, 4)), "w": 0.3 * rng.standard_normal((3, 2, 3, 3)),
            "b": 0.1 * rng.standard_normal(3), "conv_param": {"stride": 1, "pad": 1},
            "pool_param": {"pool_height": 2, "pool_width": 2, "stride": 2}}


def _affine_norm_relu(norm: str):
    def build(rng):
        values = {"x": rng.standard_normal((5, 4)), "w": 0.5 * rng.standard_normal((4, 6)),
                  "b": 0.1 * rng.standard_normal(6), "gamma": 1 + 0.2 * rng.standard_normal(6),
                  "beta": 0.2 * rng.standard_normal(6)}
        values[norm] = ({"mode": "train", "eps": 1e-5, "momentum": 0.9} if norm == "bn_param"
                        else {"eps": 1e-5})
        return values
    return build


def _one_input(rng):
    return {"x": rng.standard_normal((4, 5))}


#: kind -> (builder, layout: where the examples are in the first argument).
KINDS: dict[str, tuple[Callable, str]] = {
    "affine": (_affine, "rows"), "relu": (_relu, "rows"), "conv": (_conv, "rows"),
    "max_pool": (_max_pool, "rows"), "batchnorm": (_batchnorm, "rows"),
    "spatial_batchnorm": (_spatial_batchnorm, "rows"), "layernorm": (_layernorm, "rows"),
    "dropout": (_dropout, "rows"), "softmax_loss": (_softmax_loss, "rows"),
    "svm_loss": (_svm_loss, "rows"), "rnn_step": (_rnn_step, "rows"), "rnn": (_rnn, "rows"),
    "lstm_step": (_lstm_step, "rows"), "lstm": (_lstm, "rows"),
    "word_embedding": (_word_embedding, "rows"), "temporal_affine": (_temporal_affine, "rows"),
    "temporal_softmax_loss": (_temporal_softmax_loss, "rows"),
    "rnn_cell": (_rnn_cell, "columns"), "lstm_cell": (_lstm_cell, "columns"),
    # the sandwich layers a course builds from those (affine then ReLU, conv, ReLU and pooling)
    "affine_relu": (_affine_relu, "rows"), "conv_relu": (_conv_relu, "rows"),
    "conv_relu_pool": (_conv_relu_pool, "rows"),
    "affine_bn_relu": (_affine_norm_relu("bn_param"), "rows"),
    "affine_ln_relu": (_affine_norm_relu("ln_param"), "rows"),
}


# -- smaller versions of the same examples, for telling causes apart -----------------------------

@dataclass(frozen=True)
class Smaller:
    """A kind's example arguments with one thing taken away, to check a failing layer again.

    ``removes`` names what is gone, from :data:`REMOVALS`; ``words`` say it for a reader ("one
    time step"); ``build(rng)`` returns the arguments in the same order and roles as the kind's
    own, every other size and setting kept where it can be.
    """

    removes: str
    words: str
    build: Callable


#: What a smaller version can take away: several time steps (a gradient carried between steps,
#: and a weight's contributions summed over them), a kernel wider than one entry (its indexing
#: and orientation), several window positions and examples (contributions to one weight summed
#: over them), an index used twice (contributions to one row summed), windows that overlap,
#: several channels (an axis that must be moved before it is merged with others).
REMOVALS = ("steps", "kernel", "positions", "repeats", "overlap", "channels")


def _rnn_one_step(rng):
    values = _rnn(rng)
    values["x"] = values["x"][:, :1].copy()
    return values


def _lstm_one_step(rng):
    values = _lstm(rng)
    values["x"] = values["x"][:, :1].copy()
    return values


def _conv_one_by_one(rng):
    values = _conv(rng)
    values["w"] = values["w"][:, :, 1:2, 1:2].copy()  # stride and padding kept
    return values


def _conv_one_window(rng):
    values = _conv(rng)
    # one example whose single pixel, padded by 1, fills exactly one 3x3 window
    values["x"] = values["x"][:1, :, 2:3, 2:3].copy()
    return values


def _spatial_batchnorm_one_channel(rng):
    values = _spatial_batchnorm(rng)
    for name in ("x", "gamma", "beta"):
        values[name] = values[name][:, :1].copy() if name == "x" else values[name][:1].copy()
    return values


def _max_pool_tiled(rng):
    x = 0.04 * (rng.permutation(2 * 3 * 4 * 4) - 48.0)  # distinct values, as the kind's own
    return {"x": x.reshape(2, 3, 4, 4), "pool_param": {"pool_height": 2, "pool_width": 2, "stride": 2}}


def _word_embedding_distinct(rng):
    values = _word_embedding(rng)
    values["x"] = rng.permutation(values["W"].shape[0])[:6].reshape(2, 3)  # no word twice
    return values


#: kind -> its smaller versions, in the order they are tried (the one that takes away least first).
SMALLER: dict[str, tuple[Smaller, ...]] = {
    "rnn": (Smaller("steps", "one time step", _rnn_one_step),),
    "lstm": (Smaller("steps", "one time step", _lstm_one_step),),
    "conv": (Smaller("kernel", "a 1x1 kernel", _conv_one_by_one),
             Smaller("positions", "one example and one window position", _conv_one_window)),
    "max_pool": (Smaller("overlap", "2x2 windows that do not overlap", _max_pool_tiled),),
    "word_embedding": (Smaller("repeats", "no word used twice", _word_embedding_distinct),),
    "spatial_batchnorm": (Smaller("channels", "one channel", _spatial_batchnorm_one_channel),),
}


def smaller_arguments(kind: str, parameters: list[str], *, seed: int, dtype) -> list[tuple[Smaller, dict]]:
    """The kind's smaller versions with their arguments by the forward's names (``parameters``,
    in order), drawn from ``seed`` in ``dtype``; empty for a kind without any."""
    out = []
    for smaller in SMALLER.get(kind, ()):
        values = smaller.build(np.random.default_rng(seed))
        if len(values) == len(parameters):
            out.append((smaller, {name: _cast(value, dtype) for name, value in zip(parameters, values.values())}))
    return out


def kind_of(name: str) -> str:
    """The layer kind a layer's name stands for: ``conv_naive`` and ``conv`` are ``conv``,
    ``batch_norm`` is ``batchnorm``; an unknown name is its own kind."""
    kind = name.lower()
    for suffix in ("_naive", "_fast", "_layer"):
        kind = kind.removesuffix(suffix)
    return ALIASES.get(kind, kind)


def known(kind: str) -> bool:
    return kind in KINDS


def layout_of(kind: str) -> str | None:
    """Where the examples are in a known kind's first argument ("rows" or "columns")."""
    return KINDS[kind][1] if kind in KINDS else None


def _cast(value, dtype):
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
        return value.astype(dtype)
    if isinstance(value, dict):
        return {key: _cast(item, dtype) for key, item in value.items()}
    return value


def default_arguments(kind: str, parameters: list[str], *, seed: int, dtype) -> dict | None:
    """Arguments for a forward of this kind whose required arguments are ``parameters``, by
    those names and in that order; None when there are none to give (unknown kind, or a forward
    taking another number of arguments)."""
    if kind in KINDS:
        builder = KINDS[kind][0]
    elif len(parameters) == 1:
        builder = _one_input  # an activation or another one-input layer
    else:
        return None
    values = builder(np.random.default_rng(seed))
    if len(values) != len(parameters):
        return None
    return {name: _cast(value, dtype) for name, value in zip(parameters, values.values())}


def expected_arguments(kind: str) -> list[str]:
    """The argument names this module gives a known kind, in order (for messages)."""
    return list(KINDS[kind][0](np.random.default_rng(0))) if kind in KINDS else []
