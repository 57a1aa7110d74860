"""Run every gradient check and every probe over the corpus; count false alarms and detections.

A *false alarm* is a failing verdict on a correct network of :mod:`tests.corpus.networks`. A bug
of :data:`BUGS` is *detected* when the gradient check fails, and *named* when the parameters it
fails are exactly the one the bug was injected into. A bug of :data:`NATIVE_BUGS` is written into
a style's own backward; it is named when exactly the parameters it makes wrong fail, and its
hint *fits* when every failure on them has a kind and a hint the variant accepts, in the code's
own terms (see :data:`STYLE_WORDS`). Shared by the parametrised test and by
``scripts/false_alarm_table.py``, which runs the full grid and writes the README table.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradcheck.engine import check_target_gradients
from gradcheck.probes import (
    probe_activations,
    probe_example_order,
    probe_gradient_flow,
    probe_input_scale,
    probe_learning_rate,
    probe_precision,
    probe_shapes,
)
from tests.corpus.networks import STYLES, batch

#: The checks run on every cell of the grid (``shapes`` and ``example_order`` build their own
#: batches, so they run once per style, seed and dtype).
PER_BATCH = ("gradients", "gradients_sample", "gradients_directional", "learning_rate", "input_scale",
             "activations", "gradient_flow", "precision")
PER_NETWORK = ("shapes", "example_order")
CHECKS = PER_BATCH + PER_NETWORK

#: The grid: batch sizes of the correct networks and of the buggy ones, and the dtypes.
BATCHES = (1, 2, 8, 32, 128)
BUG_BATCHES = (2, 8, 32)
DTYPES = (np.float64, np.float32)
#: The gradient check's modes: every entry, a sample of entries, random directions.
MODES = ("full", "sample", "directional")
#: The quick slice (``--quick``, and the benchmark): seeds 0-1, batch sizes 1 and 8.
QUICK = (2, (1, 8))


def in_layout(target, X):
    return np.ascontiguousarray(X.T) if getattr(target, "layout", "rows") == "columns" else X


def build(style: str, seed: int, dtype, n: int):
    """(target, X, y) for one cell: X in the target's layout and dtype."""
    X, y = batch(n, seed, dtype)
    target = STYLES[style](seed, dtype, X, y)
    return target, in_layout(target, X), y


def status_of(result) -> str:
    """"passed", "failed" or "inconclusive" (nothing failed, something could not be judged and
    the result says so): an inconclusive result is reported, never counted as a pass."""
    if not result.passed:
        return "failed"
    return "inconclusive" if result.inconclusive else "passed"


def _verdict(result) -> tuple[bool, str]:
    failures = [f for f in result.findings if f.is_failure]
    undecided = [f for f in result.findings if f.inconclusive]
    shown = failures or undecided
    return status_of(result), (shown[0].message if shown else "")


def run_check(check: str, style: str, n: int, seed: int, dtype) -> tuple[str, str]:
    """(status, first failing or undecided message) of one check on one correct network;
    status as :func:`status_of`."""
    # shapes and order make their own batches: their cells carry n = 0
    target, X, y = build(style, seed, dtype, n if n > 0 else 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if check.startswith("gradients"):
            mode = check.partition("_")[2] or "full"
            return _verdict(check_target_gradients(target, X, y, mode=mode, seed=seed))
        if check == "precision":
            t64, X64, _ = build(style, seed, np.float64, n)
            t32, _, _ = build(style, seed, np.float32, n)
            return _verdict(probe_precision(t64, t32, X64, y))
        if check in ("shapes", "example_order"):
            probe = probe_shapes if check == "shapes" else probe_example_order
            return _verdict(probe(target, seed=seed, dtype=dtype))
        probe = {"learning_rate": probe_learning_rate, "input_scale": probe_input_scale,
                 "activations": probe_activations, "gradient_flow": probe_gradient_flow}[check]
        return _verdict(probe(target, X, y))


def correct_grid(seeds: int, batches=BATCHES):
    """Cells ``(check, style, n, seed, dtype)`` of the correct networks."""
    for style in STYLES:
        for dtype in DTYPES:
            for seed in range(seeds):
                for check in CHECKS:
                    for n in (batches if check not in PER_NETWORK else (0,)):
                        yield check, style, n, seed, dtype


def bug_grid(seeds: int, modes=MODES):
    """Cells ``(bug index, style, n, seed, dtype, mode)`` of the networks with an injected bug."""
    for bug_index in range(len(BUGS)):
        for style in STYLES:
            for dtype in DTYPES:
                for seed in range(seeds):
                    for n in BUG_BATCHES:
                        for mode in modes:
                            yield bug_index, style, n, seed, dtype, mode


# -- injected bugs ----------------------------------------------------------------------------------
class Injected:
    """The same network with one parameter's gradient made wrong by ``bug``."""

    def __init__(self, target, bug: Callable, param: str):
        self._target, self._bug, self._param = target, bug, param
        self.params = target.params

    def __getattr__(self, name):
        if name.startswith("__") or name == "_target":  # copy and pickle probe before __init__
            raise AttributeError(name)
        return getattr(self._target, name)

    def loss(self, X, y):
        return self._target.loss(X, y)

    def gradients(self, X, y):
        grads = dict(self._target.gradients(X, y))
        grads[self._param] = self._bug(np.array(grads[self._param], dtype=np.float64))
        return grads


def _weights(params):
    return [n for n, a in params.items() if a.ndim == 2 and min(a.shape) > 1]


def _biases(params):
    return [n for n, a in params.items() if not (a.ndim == 2 and min(a.shape) > 1) and a.size > 1]


@dataclass(frozen=True)
class Bug:
    """A defect applied to one parameter's gradient: ``pick(params)`` names the parameter."""

    name: str
    pick: Callable
    apply: Callable


def _zero_first_row(g):
    g = g.copy()
    g.reshape(g.shape[0], -1)[0] = 0.0
    return g


BUGS = (
    Bug("sign_flipped", lambda p: _weights(p)[-1], lambda g: -g),
    Bug("doubled", lambda p: _weights(p)[0], lambda g: 2.0 * g),
    Bug("row_never_written", lambda p: _weights(p)[0], _zero_first_row),
    Bug("bias_summed_over_every_axis", lambda p: _biases(p)[-1], lambda g: np.full_like(g, g.sum())),
)


def run_bug(bug: Bug, style: str, n: int, seed: int, dtype, mode: str = "full") -> tuple[str, bool, str]:
    """(status, right parameter named, finding kinds) for one injected bug: status "failed" is
    detected, "inconclusive" reported as not judged, "passed" a silent pass."""
    target, X, y = build(style, seed, dtype, n)
    param = bug.pick(target.params)
    buggy = Injected(target, bug.apply, param)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = check_target_gradients(buggy, X, y, mode=mode, seed=seed)
    kinds = ",".join(sorted({f.kind for f in result.findings if f.is_failure}))
    return status_of(result), set(result.failed) == {param}, kinds


# -- bugs written into each style's own code -------------------------------------------------------
@dataclass(frozen=True)
class NativeBug:
    """A mistake of ``style`` written into its backward (``bug=`` of the builder).

    ``wrong``: exactly the parameters it makes wrong; ``kinds``: the finding kinds that describe
    it; ``words``: the hint must contain one of them (case-insensitive).
    """

    style: str
    name: str
    wrong: frozenset
    kinds: tuple
    words: tuple


#: Words a hint must not use on a style: per-example code has no batch of its own (no examples
#: axis, no 1/m); a library whose loss is a sum is not told about a mean loss or one 1/m.
STYLE_WORDS = {
    "per_sample_quadratic": ("examples axis", "1/m", "batch size", "rows = examples"),
    "per_sample_cross_entropy": ("examples axis", "1/m", "batch size", "rows = examples"),
    "sum_loss_library": ("keep only one 1/m", "mean loss", "mean over examples"),
}

_ALL = frozenset({"W1", "b1", "W2", "b2"})
_RULE = "chain rule"
#: a gradient reaching entries the loss does not depend on, where a ReLU's mask is left out
_MASK = "forward's own mask"
NATIVE_BUGS = (
    NativeBug("per_sample_quadratic", "nabla_b_from_activation", frozenset({"b1", "b2"}), ("mismatch",), (_RULE,)),
    NativeBug("per_sample_quadratic", "nabla_w_transposed", frozenset({"W1", "W2"}), ("shape",),
              ("delta @ activation.T",)),
    NativeBug("per_sample_quadratic", "sigmoid_prime_of_activation", frozenset({"W1", "b1"}), ("mismatch",),
              ("activation derivative",)),
    NativeBug("per_sample_cross_entropy", "quadratic_delta_with_cross_entropy", _ALL, ("mismatch",), (_RULE,)),
    NativeBug("per_sample_cross_entropy", "delta_y_minus_a", _ALL, ("sign",), ("y - p",)),
    NativeBug("per_sample_cross_entropy", "nabla_b_summed", frozenset({"b1", "b2"}), ("reduction",),
              ("delta itself",)),
    NativeBug("layer_objects_float32", "dbiases_summed_over_axis1", frozenset({"b1", "b2"}), ("shape",),
              ("axis and keepdims",)),
    NativeBug("layer_objects_float32", "relu_mask_missing", frozenset({"W1", "b1"}), ("mismatch", "routing"),
              ("activation derivative", _MASK)),
    NativeBug("layer_objects_float32", "dinputs_not_divided_by_samples", _ALL, ("scale",),
              ("divide the loss gradient by the batch size",)),
    NativeBug("layer_objects_float32", "log_eps_not_in_backward", _ALL, ("scale", "mismatch"),
              ("two constants that should be one",)),
    NativeBug("cache_l2_batchnorm_dropout", "l2_term_missing", frozenset({"W1", "W2"}), ("scale",),
              ("add its gradient, lambda",)),
    NativeBug("cache_l2_batchnorm_dropout", "l2_term_doubled", frozenset({"W1", "W2"}), ("scale",),
              ("penalty once",)),
    NativeBug("cache_l2_batchnorm_dropout", "dropout_backward_without_rescale",
              frozenset({"W1", "gamma1", "beta1"}), ("scale",), ("1/keep_prob rescale",)),
    NativeBug("cache_l2_batchnorm_dropout", "l2_cost_without_half", frozenset({"W1", "W2"}), ("scale",),
              ("lacks the ½",)),
    NativeBug("per_sample_quadratic", "cost_without_half", _ALL, ("scale",), ("put the ½ into the loss",)),
    NativeBug("cache_l2_batchnorm_dropout", "dgamma_without_xhat", frozenset({"gamma1"}), ("missing_term",),
              ("x_hat",)),
    NativeBug("sum_loss_library", "backward_divides_by_batch", _ALL, ("scale",),
              ("loss sums over the examples",)),
    NativeBug("sum_loss_library", "tanh_derivative_of_input", frozenset({"W1", "b1"}), ("mismatch",),
              ("activation derivative",)),
    NativeBug("sum_loss_library", "db_summed_over_every_axis", frozenset({"b1", "b2"}), ("reduction",),
              ("summed over every axis",)),
    NativeBug("small_init_unfittable", "tanh_derivative_not_squared", frozenset({"W1", "b1"}), ("mismatch",),
              ("activation derivative",)),
    NativeBug("small_init_unfittable", "dZ_not_divided_by_n", _ALL, ("scale",),
              ("divide the summed gradient", "divide the loss gradient by the batch size")),
    NativeBug("small_init_unfittable", "dW2_product_reversed", frozenset({"W2"}), ("shape",), ("wrong order",)),
    NativeBug("deep_relu_near_kinks", "mask_from_layer_above", _ALL, ("mismatch",), (_RULE,)),
    NativeBug("deep_relu_near_kinks", "dW_from_preactivation", frozenset({"W2", "W3", "W4"}),
              ("mismatch", "routing"), (_RULE, _MASK)),
)


def native_grid(seeds: int, modes=MODES):
    """Cells ``(native bug index, n, seed, dtype, mode)`` of the networks with a bug in their own
    code."""
    for bug_index in range(len(NATIVE_BUGS)):
        for dtype in DTYPES:
            for seed in range(seeds):
                for n in BUG_BATCHES:
                    for mode in modes:
                        yield bug_index, n, seed, dtype, mode


def hint_misfits(bug: NativeBug, result) -> list[str]:
    """What is wrong with the failing findings on ``bug.wrong``: a kind or a hint that does not fit."""
    forbidden = STYLE_WORDS.get(bug.style, ())
    misfits = []
    for finding in result.findings:
        if not finding.is_failure:
            continue
        hint = finding.hint.lower()
        if finding.subject not in bug.wrong:
            misfits.append(f"{finding.subject}: a {finding.kind} failure on a right parameter")
        elif finding.kind not in bug.kinds:
            misfits.append(f"{finding.subject}: kind {finding.kind}, expected {'/'.join(bug.kinds)}")
        elif not any(word.lower() in hint for word in bug.words):
            misfits.append(f"{finding.subject}: hint without {' / '.join(bug.words)}: {finding.hint}")
        misfits.extend(f"{finding.subject}: hint says {word!r}: {finding.hint}"
                       for word in forbidden if word.lower() in hint)
    return misfits


def run_native(bug: NativeBug, n: int, seed: int, dtype,
               mode: str = "full") -> tuple[str, bool, list[str], str]:
    """(status, exactly the wrong parameters named, hint misfits, finding kinds) for one cell;
    status as :func:`run_bug`'s. Outside the full mode only some entries (or directions) are
    compared, so a failure names a subset of the wrong parameters and its kind may differ."""
    X, y = batch(n, seed, dtype)
    target = STYLES[bug.style](seed, dtype, X, y, bug=bug.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = check_target_gradients(target, in_layout(target, X), y, mode=mode, seed=seed)
    kinds = ",".join(sorted({f.kind for f in result.findings if f.is_failure}))
    return status_of(result), set(result.failed) == set(bug.wrong), hint_misfits(bug, result), kinds
