"""Argument checks for the public API, each failing with a message that says what to do."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from gradcheck.errors import InvalidArgumentError

MODES = ("full", "sample", "directional")
METHODS = ("central", "richardson")


def validate_params(params) -> dict[str, np.ndarray]:
    """A mapping of str -> writeable, non-empty float ndarray with finite values."""
    if not isinstance(params, Mapping):
        raise InvalidArgumentError(
            "params",
            f"got {type(params).__name__}, expected a mapping of name to array.",
            "Pass a dict, e.g. params={'W1': W1, 'b1': b1}.",
        )
    if not params:
        raise InvalidArgumentError("params", "is empty.", "Pass at least one parameter array.")
    out = {}
    for name, arr in params.items():
        arg = f"params[{name!r}]"
        if not isinstance(name, str):
            raise InvalidArgumentError("params", f"has a key {name!r} of type {type(name).__name__}; keys must be str.")
        if not isinstance(arr, np.ndarray):
            raise InvalidArgumentError(
                arg,
                f"is a {type(arr).__name__}, expected a NumPy array.",
                "Pass the very array your loss reads (the checker perturbs it in place), "
                "e.g. np.asarray(...) once and keep using that array.",
            )
        if not np.issubdtype(arr.dtype, np.floating):
            raise InvalidArgumentError(
                arg,
                f"has dtype {arr.dtype}, expected float32 or float64.",
                "Integer or object arrays cannot be perturbed by a small step: convert with "
                "W = W.astype(np.float64) before building your loss.",
            )
        if arr.size == 0:
            raise InvalidArgumentError(arg, f"is empty (shape {arr.shape}).", "Remove it from params.")
        if not arr.flags.writeable:
            raise InvalidArgumentError(
                arg,
                "is read-only (writeable=False), so it cannot be perturbed in place.",
                "Pass a writeable array that your loss reads, e.g. make a copy with "
                "W = W.copy() and build the loss from that copy.",
            )
        if not np.all(np.isfinite(arr)):
            bad = int(np.sum(~np.isfinite(arr)))
            raise InvalidArgumentError(
                arg, f"contains {bad} NaN or inf values.", "Check the gradient at finite parameters."
            )
        out[name] = arr
    return out


def validate_grads(grads, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A mapping with exactly the names of params, float arrays (shapes are diagnosed later).

    Returns float64 copies, so later backward calls that reuse buffers cannot change them.
    """
    if not isinstance(grads, Mapping):
        raise InvalidArgumentError(
            "grads",
            f"got {type(grads).__name__}, expected a mapping of name to array "
            "(or a zero-argument function returning one).",
            "Pass e.g. grads={'W1': dW1, 'b1': db1}.",
        )
    missing = [n for n in params if n not in grads]
    extra = [n for n in grads if n not in params]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"no gradient for {missing}")
        if extra:
            parts.append(f"gradients for unknown parameters {extra}")
        raise InvalidArgumentError(
            "grads",
            "; ".join(parts) + f". params has {list(params)}.",
            "Use the same names in params and grads.",
        )
    out = {}
    for name in params:
        g = grads[name]
        arg = f"grads[{name!r}]"
        if isinstance(g, (int, float, np.number)) and not isinstance(g, bool):
            g = np.asarray(g, dtype=np.float64)
        if not isinstance(g, np.ndarray):
            raise InvalidArgumentError(arg, f"is a {type(g).__name__}, expected a NumPy array.")
        if not (np.issubdtype(g.dtype, np.floating) or np.issubdtype(g.dtype, np.integer)
                or g.dtype == np.bool_):
            raise InvalidArgumentError(arg, f"has dtype {g.dtype}, expected a float array.")
        out[name] = np.array(g, dtype=np.float64, copy=True)
    return out


def resolve_grads(grads) -> object:
    """Call a zero-argument grads function once, or return the mapping as given."""
    if callable(grads) and not isinstance(grads, Mapping):
        return grads()
    return grads


def validate_options(*, mode, eps, rtol, atol, samples, seed, method, directions, batch_size) -> None:
    if mode not in MODES:
        raise InvalidArgumentError("mode", f"got {mode!r}, expected one of {MODES}.")
    if method not in METHODS:
        raise InvalidArgumentError("method", f"got {method!r}, expected one of {METHODS}.")
    for arg, value in (("eps", eps), ("rtol", rtol), ("atol", atol)):
        if value is not None and not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
            raise InvalidArgumentError(arg, f"got {value!r}, expected a positive number or None.")
    if samples is not None and (not isinstance(samples, (int, np.integer)) or samples < 1):
        raise InvalidArgumentError("samples", f"got {samples!r}, expected a positive integer or None.")
    if not isinstance(seed, (int, np.integer)):
        raise InvalidArgumentError("seed", f"got {seed!r}, expected an integer.")
    if not isinstance(directions, (int, np.integer)) or directions < 1:
        raise InvalidArgumentError("directions", f"got {directions!r}, expected a positive integer.")
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise InvalidArgumentError("batch_size", f"got {batch_size!r}, expected a positive integer or None.")


def require_callable(value, argument: str) -> Callable:
    if not callable(value):
        raise InvalidArgumentError(
            argument,
            f"got {type(value).__name__}, expected a zero-argument function.",
            f"Wrap it, e.g. {argument}=lambda: my_loss(X, y).",
        )
    return value
