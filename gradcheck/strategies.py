"""Hypothesis strategies for testing from-scratch networks: logits, labels, widths, problems.

Public API: every option is keyword-only and every strategy is documented with an example.
Needs ``hypothesis`` (a test dependency); nothing else in gradcheck imports this module.

    >>> from hypothesis import given
    >>> from gradcheck import strategies as gst
    >>> @given(gst.logits(shape=(4, 10), max_magnitude=1e3))
    ... def test_softmax_sums_to_one(Z): ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck.errors import InvalidArgumentError
from gradcheck.validation import float_dtype, positive_int

__all__ = ["MLPProblem", "class_axes", "label_batches", "layer_widths", "logits", "mlp_problems"]

OUTPUTS = ("softmax", "sigmoid", "linear")
HIDDEN = ("relu", "leaky_relu", "sigmoid", "tanh")


def _positive(name: str, value: Any, minimum: int = 1) -> int:
    return positive_int(value, name, minimum=minimum)


def _float_dtype(dtype: Any) -> np.dtype:
    return float_dtype(dtype)


def logits(*, shape: tuple[int, ...] | None = None, class_axis: int = -1, min_dims: int = 2,
           max_dims: int = 3, max_side: int = 6, min_classes: int = 1, max_classes: int = 10,
           max_magnitude: float = 1e3, dtype: Any = np.float64) -> st.SearchStrategy[np.ndarray]:
    """Arrays of finite logits in [-max_magnitude, max_magnitude].

    Parameters
    ----------
    shape : fixed shape, or None to draw one with ``min_dims``..``max_dims`` axes, each of
        1..``max_side`` entries, the class axis with ``min_classes``..``max_classes``.
    class_axis : the axis that holds the classes (any valid axis, negative counts from the end).
    max_magnitude : bound on |logit|; the bounds themselves are drawn too (large logits).
    dtype : float64 (default) or float32.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(logits(shape=(8, 10), max_magnitude=1e4))          # 8 examples, 10 classes
    ... def test_finite(Z):
    ...     assert np.all(np.isfinite(softmax(Z)))
    >>> logits(min_dims=3, max_dims=3, class_axis=1)             # any (a, k, b) batch, classes on axis 1
    """
    dt = _float_dtype(dtype)
    if not max_magnitude > 0 or not np.isfinite(max_magnitude):
        raise InvalidArgumentError("max_magnitude", f"got {max_magnitude!r}, expected a finite number > 0.")
    elements = hnp.from_dtype(dt, min_value=-float(max_magnitude), max_value=float(max_magnitude),
                              allow_nan=False, allow_infinity=False, allow_subnormal=False)
    if shape is not None:
        shape = tuple(int(s) for s in shape)
        if not -len(shape) <= class_axis < len(shape):
            raise InvalidArgumentError("class_axis", f"got {class_axis} for shape {shape}.",
                                       f"Use an axis in {-len(shape)}..{len(shape) - 1}.")
        return hnp.arrays(dt, shape, elements=elements)
    min_dims, max_dims = _positive("min_dims", min_dims), _positive("max_dims", max_dims)
    if not -min_dims <= class_axis < min_dims:
        raise InvalidArgumentError("class_axis", f"got {class_axis} with min_dims={min_dims}.",
                                   f"Use an axis in {-min_dims}..{min_dims - 1}, or raise min_dims.")
    k_low, k_high = _positive("min_classes", min_classes), _positive("max_classes", max_classes)
    if k_low > k_high or max_dims < min_dims:
        raise InvalidArgumentError("min_classes", f"min_classes={min_classes} > max_classes={max_classes} "
                                   f"or min_dims={min_dims} > max_dims={max_dims}.")

    @st.composite
    def draw_logits(draw):
        dims = list(draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1,
                                          max_side=_positive("max_side", max_side))))
        dims[class_axis] = draw(st.integers(k_low, k_high))
        return draw(hnp.arrays(dt, tuple(dims), elements=elements))

    return draw_logits()


def class_axes(ndim: int) -> st.SearchStrategy[int]:
    """Every axis of an ``ndim``-dimensional array, negative ones too.

    Examples
    --------
    >>> @given(st.data())
    ... def test_any_axis(data):
    ...     Z = data.draw(logits(min_dims=3, max_dims=3))
    ...     axis = data.draw(class_axes(Z.ndim))
    """
    ndim = _positive("ndim", ndim)
    return st.integers(-ndim, ndim - 1)


def label_batches(*, n_classes: int, min_size: int = 1, max_size: int = 32, missing_classes: int = 0,
                  all_present: bool = False) -> st.SearchStrategy[np.ndarray]:
    """Integer class labels, shape (n,), dtype int64, values in 0..n_classes - 1.

    Parameters
    ----------
    n_classes : number of classes of the network.
    min_size, max_size : bounds on the batch size n (at least 1).
    missing_classes : the top ``missing_classes`` classes never appear, as in a small batch that
        happens to lack them: a one-hot sized by ``y.max() + 1`` is then too narrow.
    all_present : every class that is not missing appears at least once (raises min_size to
        the number of those classes when it is smaller).

    Examples
    --------
    >>> label_batches(n_classes=10, max_size=20, missing_classes=2)   # labels 0..7 only
    >>> @given(label_batches(n_classes=10, missing_classes=1))
    ... def test_one_hot_width(y):
    ...     assert one_hot(y).shape == (y.size, 10)
    """
    n_classes = _positive("n_classes", n_classes)
    min_size, max_size = _positive("min_size", min_size), _positive("max_size", max_size)
    if not 0 <= missing_classes < n_classes:
        raise InvalidArgumentError("missing_classes", f"got {missing_classes!r} with n_classes={n_classes}.",
                                   f"Use 0..{n_classes - 1}: at least one class must remain.")
    present = n_classes - int(missing_classes)
    if all_present:
        min_size = max(min_size, present)
    if min_size > max_size:
        raise InvalidArgumentError("max_size", f"got {max_size}, smaller than the {min_size} labels needed.",
                                   "Raise max_size or lower min_size.")

    @st.composite
    def draw_labels(draw):
        first = list(range(present)) if all_present else []
        n = draw(st.integers(min_size, max_size))
        rest = draw(st.lists(st.integers(0, present - 1), min_size=n - len(first), max_size=n - len(first)))
        return np.array(draw(st.permutations(first + rest)), dtype=np.int64)

    return draw_labels()


def layer_widths(*, n_in: int | None = None, n_out: int | None = None, min_layers: int = 1,
                 max_layers: int = 3, min_width: int = 1, max_width: int = 8) -> st.SearchStrategy[tuple[int, ...]]:
    """Widths of a multilayer perceptron from input to output, e.g. (5, 3, 4): two Dense layers.

    Parameters
    ----------
    n_in, n_out : fix the input or output width; drawn in min_width..max_width otherwise.
    min_layers, max_layers : number of Dense layers (the tuple has one more entry).
    min_width, max_width : bounds on every drawn width (at least 1).

    Examples
    --------
    >>> layer_widths(n_out=10, max_layers=2)    # (n_in, 10) or (n_in, h, 10)
    >>> @given(layer_widths())
    ... def test_build(sizes):
    ...     assert len(build_mlp(sizes).params) == 2 * (len(sizes) - 1)
    """
    low, high = _positive("min_width", min_width), _positive("max_width", max_width)
    layers_low, layers_high = _positive("min_layers", min_layers), _positive("max_layers", max_layers)
    if low > high or layers_low > layers_high:
        raise InvalidArgumentError("max_width", f"empty range: widths {low}..{high}, layers "
                                   f"{layers_low}..{layers_high}.")
    width = st.integers(low, high)
    first = st.just(_positive("n_in", n_in)) if n_in is not None else width
    last = st.just(_positive("n_out", n_out)) if n_out is not None else width

    @st.composite
    def draw_widths(draw):
        n_layers = draw(st.integers(layers_low, layers_high))
        hidden = draw(st.lists(width, min_size=n_layers - 1, max_size=n_layers - 1))
        return (draw(first), *hidden, draw(last))

    return draw_widths()


@dataclass(frozen=True)
class MLPProblem:
    """A network specification and a batch for it. Rows of ``X`` are examples.

    ``y`` is (n,) int64 labels for a softmax output, (n, 1) 0.0/1.0 for a sigmoid output and
    (n, n_out) floats for a linear one. ``network()`` builds the reference network.
    """

    sizes: tuple[int, ...]
    hidden: str
    output: str
    X: np.ndarray
    y: np.ndarray
    seed: int

    @property
    def batch_size(self) -> int:
        return int(self.X.shape[0])

    def network(self, **options: Any):
        """The reference network for this problem (``reference_net.network.build_mlp``)."""
        from reference_net.network import build_mlp

        return build_mlp(self.sizes, hidden=self.hidden, output=self.output, seed=self.seed,
                         dtype=self.X.dtype, **options)


def mlp_problems(*, output: str = "softmax", hidden: tuple[str, ...] = HIDDEN, min_batch: int = 1,
                 max_batch: int = 16, max_layers: int = 3, max_width: int = 6, missing_classes: int = 0,
                 input_scale: float = 1.0, dtype: Any = np.float64) -> st.SearchStrategy[MLPProblem]:
    """Small multilayer-perceptron problems: widths, activation, inputs and labels.

    Parameters
    ----------
    output : "softmax" (labels 0..n_out - 1), "sigmoid" (n_out = 1, labels 0/1) or "linear".
    hidden : hidden activations to draw from.
    min_batch, max_batch : bounds on the batch size (from 1: a single example is a valid batch).
    max_layers, max_width : bounds on the network (any widths from 1).
    missing_classes : with a softmax output, the top classes absent from the batch.
    input_scale : X is drawn in [-input_scale, input_scale].
    dtype : float64 (default) or float32, for X and the network.

    Examples
    --------
    >>> @given(mlp_problems(max_batch=8))
    ... def test_gradient_shapes(problem):
    ...     net = problem.network()
    ...     grads = net.gradients(problem.X, problem.y)
    ...     assert all(grads[k].shape == p.shape for k, p in net.params.items())
    """
    if output not in OUTPUTS:
        raise InvalidArgumentError("output", f"got {output!r}, expected one of {OUTPUTS}.")
    hidden = tuple(hidden)
    unknown = [h for h in hidden if h not in HIDDEN]
    if not hidden or unknown:
        raise InvalidArgumentError("hidden", f"got {hidden!r}, expected a non-empty tuple from {HIDDEN}.")
    dt = _float_dtype(dtype)
    min_batch, max_batch = _positive("min_batch", min_batch), _positive("max_batch", max_batch)
    if not 0 <= int(missing_classes) or (missing_classes and output != "softmax"):
        raise InvalidArgumentError("missing_classes", f"got {missing_classes!r} with output={output!r}.",
                                   "Missing classes need a softmax output; pass a count >= 0.")
    if not input_scale > 0 or not np.isfinite(input_scale):
        raise InvalidArgumentError("input_scale", f"got {input_scale!r}, expected a finite number > 0.")
    min_out = int(missing_classes) + 1
    widths = layer_widths(max_layers=max_layers, max_width=max_width)
    n_outs = st.just(1) if output == "sigmoid" else st.integers(min_out, max(max_width, min_out))
    elements = hnp.from_dtype(dt, min_value=-float(input_scale), max_value=float(input_scale),
                              allow_nan=False, allow_infinity=False, allow_subnormal=False)

    @st.composite
    def draw_problem(draw):
        sizes = (*draw(widths)[:-1], draw(n_outs))
        n = draw(st.integers(min_batch, max_batch))
        X = draw(hnp.arrays(dt, (n, sizes[0]), elements=elements))
        if output == "softmax":
            y = draw(label_batches(n_classes=sizes[-1], min_size=n, max_size=n,
                                   missing_classes=int(missing_classes)))
        elif output == "sigmoid":
            y = draw(hnp.arrays(np.int64, (n, 1), elements=st.integers(0, 1))).astype(dt)
        else:
            y = draw(hnp.arrays(dt, (n, sizes[-1]), elements=elements))
        return MLPProblem(sizes, draw(st.sampled_from(hidden)), output, X, y,
                          draw(st.integers(0, 2**32 - 1)))

    return draw_problem()
