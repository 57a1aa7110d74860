"""Checking what a caller hands the target-level probes: numbers, batches, pairs of targets.

Every function raises :class:`~gradcheck.errors.InvalidArgumentError` (or
:class:`~gradcheck.errors.ProtocolError` for an object that is not a target) naming the argument,
before any probe touches the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradcheck.errors import InvalidArgumentError
from gradcheck.targets.protocol import as_target, target_params
from gradcheck.validation import positive_int, positive_number
from gradcheck.validation import positive_list as validation_positive_list


def positive(name: str, value: Any, *, integer: bool = False):
    """``value`` if it is a positive finite number (a positive integer with ``integer=True``):
    :func:`gradcheck.validation.positive_int` or ``positive_number``."""
    check = positive_int if integer else positive_number
    return check(value, name, fix=f"Pass {name}=10, say.")


def positive_list(name: str, values: Sequence, *, integer: bool = False) -> list:
    """A non-empty sequence of positive numbers (integers with ``integer=True``), as a list."""
    return validation_positive_list(values, name, integer=integer)


def probe_target(target: Any, argument: str = "target"):
    """The target after the protocol's checks (a zero-argument factory is called)."""
    return as_target(target, label=argument)


def probe_batch(target: Any, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` as arrays after checking they form one batch for ``target``.

    X: a finite, non-empty 2-D array of numbers, or of more dimensions for a target whose examples
    are rows (images, sequences); a list is converted; the caller's object is never modified.
    y: labels or one-hot rows with one entry per example, the examples being the rows of X
    (``layout="rows"``), its columns (``"columns"``) or either (no layout).
    """
    try:
        X_arr = np.asarray(X, dtype=np.float64) if not isinstance(X, np.ndarray) else X
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError("X", f"got {type(X).__name__} that is not an array of numbers ({exc})",
                                   "Pass the batch as a 2-D float ndarray.") from exc
    if not np.issubdtype(X_arr.dtype, np.number) or np.issubdtype(X_arr.dtype, np.complexfloating):
        raise InvalidArgumentError("X", f"has dtype {X_arr.dtype}, expected real numbers",
                                   "Convert it with X.astype(np.float64).")
    layout = getattr(target, "layout", None)
    # examples as rows may be anything: images (n, c, h, w), sequences (n, T, d)
    if X_arr.size == 0 or X_arr.ndim < 2 or (X_arr.ndim > 2 and layout != "rows"):
        raise InvalidArgumentError("X", f"has shape {X_arr.shape}, expected a non-empty 2-D batch",
                                   "Pass (n_examples, n_features), or (n_features, n_examples) "
                                   "for a columns-layout target.")
    if not np.all(np.isfinite(X_arr)):
        bad = int(np.sum(~np.isfinite(X_arr)))
        raise InvalidArgumentError("X", f"contains {bad} NaN or inf value{'s' if bad > 1 else ''}; "
                                   "a probe needs finite inputs to say where training breaks",
                                   "Clean the batch first, e.g. np.nan_to_num, or pick other examples.")
    y_arr = np.asarray(y)
    counts = {"rows": [X_arr.shape[0]], "columns": [X_arr.shape[1]]}.get(layout, list(X_arr.shape))
    # examples as rows may carry labels per step too: (n, T, k) values of a regression over time
    ranks = (1, 2, 3) if layout == "rows" else (1, 2)
    if y_arr.ndim not in ranks or not ({y_arr.shape[0], y_arr.shape[-1]} & set(counts)) \
            or (y_arr.ndim == 3 and y_arr.shape[0] != X_arr.shape[0]):
        where = f"examples as {layout}" if layout else "examples as rows or columns"
        raise InvalidArgumentError("y", f"has shape {y_arr.shape} for X of shape {X_arr.shape} "
                                   f"({where}): not one label per example",
                                   "Pass the labels of the same examples as X, in the same order.")
    return X_arr, y_arr


def target_and_batch(target: Any, X: Any, y: Any):
    """``(target, X, y)`` after :func:`probe_target` and :func:`probe_batch`."""
    target = probe_target(target)
    return (target, *probe_batch(target, X, y))


def precision_pair(target64: Any, target32: Any):
    """``(target64, target32)`` after checking they are one network in float64 and float32."""
    target64, target32 = probe_target(target64, "target64"), probe_target(target32, "target32")
    params64, params32 = target_params(target64), target_params(target32)
    for argument, params, dtype in (("target64", params64, np.float64), ("target32", params32, np.float32)):
        wrong = [f"{name} ({arr.dtype})" for name, arr in params.items() if arr.dtype != dtype]
        if wrong:
            raise InvalidArgumentError(argument, f"has parameters {', '.join(wrong)}, expected "
                                       f"{np.dtype(dtype).name}",
                                       "Build the same network twice, with dtype=np.float64 and "
                                       "dtype=np.float32.")
    if list(params64) != list(params32) or any(params64[n].shape != params32[n].shape for n in params64):
        shapes64 = {n: a.shape for n, a in params64.items()}
        shapes32 = {n: a.shape for n, a in params32.items()}
        raise InvalidArgumentError("target32", f"has parameters {shapes32}, target64 {shapes64}: "
                                   "not the same network", "Build both from the same sizes and seed.")
    return target64, target32
