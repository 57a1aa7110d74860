"""Contracts every network owes its callers, checked on a protocol target.

- shapes at any batch size: ``forward(X)`` is (n, n_classes) (or its transpose for the columns
  layout), ``loss(X, y)`` one finite number, every gradient shaped like its parameter, for
  batches of 1, 2, 3, 5, a small batch and 64 examples (a hard-coded batch size, a bias gradient
  left with the batch axis, a squeeze that drops the batch of one all break one of them);
- the loss does not depend on the order of the examples (labels indexed by something other than
  the example, a loss that reduces over the wrong axis).

Each returns a :class:`~gradcheck.probes.base.ProbeResult` whose findings are the
:class:`~gradcheck.checks.properties.PropertyViolation` findings, and leaves the target's
parameters bit for bit as they were.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gradcheck.checks.properties import (
    PropertyViolation,
    check_gradient_shapes,
    check_loss_order_invariant,
    check_output_shape,
)
from gradcheck.errors import InvalidArgumentError
from gradcheck.findings import Finding
from gradcheck.probes.base import ProbeResult, parameters_kept
from gradcheck.probes.inputs import positive, positive_list, probe_target
from gradcheck.targets.batches import synthetic_batch

#: Batch sizes of the shape contract: one (squeezes), a few small odd ones, and 64.
BATCH_SIZES = (1, 2, 3, 5, 64)


def probe_shapes(target, *, batch_sizes: Sequence[int] = BATCH_SIZES, seed: int = 0,
                 dtype=np.float64, subject: str = "shapes") -> ProbeResult:
    """Forward, loss and gradient shapes on synthetic batches of each size in ``batch_sizes``.

    ``series["batch_size"]`` lists the sizes tried and ``series["passed"]`` 1.0 or 0.0 for each;
    the result fails at the first size that breaks a contract, with the finding that says how.
    """
    target = probe_target(target)
    sizes = sorted(set(positive_list("batch_sizes", batch_sizes, integer=True)))
    verdicts: list[float] = []
    findings: list[Finding] = []
    with parameters_kept(target, subject, findings):
        for n in sizes:
            X, y, _ = synthetic_batch(target, n, seed=seed, dtype=dtype)
            try:
                if callable(getattr(target, "forward", None)):
                    check_output_shape(target, X, subject=f"forward, batch of {n}")
                check_gradient_shapes(target, X, y, subject=f"gradients, batch of {n}")
            except PropertyViolation as violation:
                findings.append(violation.finding)
                verdicts.append(0.0)
                break
            verdicts.append(1.0)
    return ProbeResult(subject, subject, not findings, findings,
                       {"batch_size": [float(n) for n in sizes[:len(verdicts)]], "passed": verdicts})


def probe_example_order(target, *, batch_size: int = 16, permutations: int = 3, seed: int = 0,
                        dtype=np.float64, subject: str = "example order") -> ProbeResult:
    """loss(X, y) on a synthetic batch against the same examples reversed and shuffled.

    ``series["permutation"]`` numbers the orders tried, ``series["loss_difference"]`` is
    ``|loss(reordered) - loss(original)|`` for each (NaN when the call raised).
    """
    target = probe_target(target)
    positive("permutations", permutations, integer=True)
    if positive("batch_size", batch_size, integer=True) < 2:
        raise InvalidArgumentError("batch_size", f"got {batch_size}, expected at least 2 examples "
                                   "to reorder", "Pass batch_size=16, say.")
    X, y, layout = synthetic_batch(target, batch_size, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed)
    orders = [np.arange(batch_size)[::-1]] + [rng.permutation(batch_size) for _ in range(permutations - 1)]
    findings: list[Finding] = []
    differences: list[float] = []
    with parameters_kept(target, subject, findings):
        base = _loss_or_nan(target, X, y)
        for order in orders:
            try:
                check_loss_order_invariant(target.loss, X, y, order, layout=layout, subject=subject)
            except PropertyViolation as violation:
                findings.append(violation.finding)
                break
            finally:
                reordered = X[:, order] if layout == "columns" else X[order]
                differences.append(abs(_loss_or_nan(target, reordered, np.asarray(y)[order]) - base))
    return ProbeResult(subject, subject, not findings, findings,
                       {"permutation": [float(i) for i in range(1, len(differences) + 1)],
                        "loss_difference": differences})


def _loss_or_nan(target, X, y) -> float:
    """The loss as a float, NaN when it raised or returned something else (reported elsewhere)."""
    try:
        return float(target.loss(X, y))
    except Exception:
        return float("nan")
