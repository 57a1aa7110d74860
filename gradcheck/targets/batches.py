"""A batch to check a target on: synthetic by default, laid out as the target expects."""

from __future__ import annotations

import numpy as np

from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.targets.protocol import first_weight, infer_n_classes, target_params
from gradcheck.validation import positive_int


def labels(batch_size: int, n_classes: int, rng: np.random.Generator, *, missing: int = 0) -> np.ndarray:
    """Integer labels (batch_size,): every class in turn, shuffled; the top ``missing`` classes absent."""
    present = max(1, n_classes - missing)
    return rng.permutation(np.arange(batch_size) % present).astype(np.int64)


def synthetic_batch(target, batch_size: int, *, seed: int = 0, layout: str | None = None,
                    dtype=np.float64, missing_classes: int = 0):
    """(X, y, layout) with X in [0, 1] shaped for the target's first weight matrix.

    With ``layout=None`` the layout is the target's declared one, or detected by trying rows
    (X: (batch, n_in)) and then columns (X: (n_in, batch)) with the first weight matrix.
    """
    positive_int(batch_size, "batch_size", fix="Pass e.g. batch_size=64.")
    if layout is not None and layout not in ("rows", "columns"):
        raise InvalidArgumentError("layout", f"got {layout!r}, expected 'rows', 'columns' or None.")
    params = target_params(target)
    W = first_weight(params)
    rng = np.random.default_rng(seed)
    layout = layout or getattr(target, "layout", None)
    n_classes = infer_n_classes(target, params)
    y = labels(batch_size, n_classes, rng, missing=missing_classes)
    candidates = [layout] if layout else ["rows", "columns"]
    errors = []
    for candidate in candidates:
        n_in = W.shape[0] if candidate == "rows" else W.shape[1]
        X = rng.uniform(0, 1, size=(batch_size, n_in)).astype(dtype)
        if candidate == "columns":
            X = np.ascontiguousarray(X.T)
        if layout:
            return X, y, candidate
        try:
            value = target.loss(X, y)
            float(value)
        except Exception as exc:  # try the other layout; report both if neither works
            errors.append(f"{candidate}: {type(exc).__name__}: {exc}")
            continue
        return X, y, candidate
    raise ProtocolError(
        "could not call loss(X, y) with examples as rows or as columns ("
        + "; ".join(errors) + "); declare `layout = 'rows'` or `'columns'` on the target"
    )

