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

from collections.abc import Callable, Sequence

import numpy as np

from gradcheck.checks.properties import (
    PropertyViolation,
    check_gradient_shapes,
    check_loss_order_invariant,
    check_output_shape,
)
from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.numeric.model import precision_of, repeat_tolerance
from gradcheck.probes.base import ProbeResult, parameters_kept
from gradcheck.probes.inputs import positive, positive_list, probe_target
from gradcheck.results.findings import Finding
from gradcheck.targets.batches import check_batch_memory, describe, input_width, synthetic_batch
from gradcheck.targets.protocol import target_params
from gradcheck.targets.tasks import Task, take_examples
from gradcheck.targets.usercode import UserCodeCrash, call_user
from gradcheck.validation import validate_seed

#: Batch sizes of the shape contract: one (squeezes), a few small odd ones, and 64.
BATCH_SIZES = (1, 2, 3, 5, 64)


def _declares_no_forward(target, X) -> str | None:
    """The reason, when the target has a ``forward`` that says it cannot produce outputs.

    An adapter built without an output function raises ProtocolError from ``forward``: the
    target declares it has none, which is not a bug in the network.
    """
    forward = getattr(target, "forward", None)
    if not callable(forward):
        return "the target has no forward(X)"
    try:
        forward(X.copy())
    except ProtocolError as exc:
        return str(exc)
    except Exception:  # the network's own error: the shape check reports it
        return None
    return None


def probe_shapes(target, *, batch_sizes: Sequence[int] = BATCH_SIZES, seed: int = 0,
                 dtype=np.float64, subject: str = "shapes", layout: str | None = None,
                 task: Task | None = None, batches: Callable | None = None) -> ProbeResult:
    """Forward, loss and gradient shapes on synthetic batches of each size in ``batch_sizes``.

    ``layout`` and ``task`` (:mod:`gradcheck.targets.tasks`) default to the target's, declared
    or inferred; the output is expected to be (n, k) for its k outputs (rows). ``batches(n)``,
    when given, makes the batches instead (``(X, y)`` of the user's data, say).

    ``series["batch_size"]`` lists the sizes tried and ``series["passed"]`` True or False for each;
    the result fails at the first size that breaks a contract, with the finding that says how.
    A target without outputs (no ``forward``, or an adapter given no output function) has its
    gradient shapes checked and the forward part skipped, with the reason as an info finding.
    """
    target = probe_target(target)
    validate_seed(seed)
    sizes = sorted(set(positive_list("batch_sizes", batch_sizes, integer=True)))
    # every size refused before any user code runs
    check_batch_memory(sizes[-1], input_width(target), argument="batch_sizes")
    verdicts: list[float] = []
    findings: list[Finding] = []
    if layout is None or task is None:
        found = describe(target, seed=seed, layout=layout, dtype=dtype)
        layout, task = layout or found[0], task or found[1]

    def make(n):
        if batches is not None:
            return batches(n)
        return synthetic_batch(target, n, seed=seed, dtype=dtype, layout=layout, task=task)[:2]

    with parameters_kept(target, subject, findings):
        X0, _ = make(sizes[0])
        no_forward = _declares_no_forward(target, X0)
        if no_forward is not None and callable(getattr(target, "forward", None)):
            findings.append(Finding(
                "shape", subject, f"{subject}: forward(X) shapes skipped — {no_forward}",
                "Give the target an output function to have its output shapes checked too.",
                severity="info", data={"skipped": True, "reason": no_forward}))
        for n in sizes:
            X, y = make(n)
            try:
                if no_forward is None:
                    check_output_shape(target, X, subject=f"forward, batch of {n}",
                                       n_outputs=task.n_outputs, layout=layout)
                check_gradient_shapes(target, X, y, subject=f"gradients, batch of {n}")
            except PropertyViolation as violation:
                findings.append(violation.finding)
                verdicts.append(False)
                break
            verdicts.append(True)
    return ProbeResult(subject, subject, findings,
                       {"batch_size": [int(n) for n in sizes[:len(verdicts)]], "passed": verdicts})


def _tolerance(X, value: float, n: int, params=()) -> float:
    """Rounding a reordered sum of ``n`` terms may show (the same bound as the order check), in
    the least precise of X's and the network's parameters' dtypes."""
    return repeat_tolerance(value, precision_of(X, *params), terms=n)


def _randomness(target, X, y, layout, order) -> str | None:
    """Why the network's own randomness could explain an order-dependent loss, or None.

    Two signs, read from behaviour: a loss call that moves NumPy's global random state (it
    draws random numbers, e.g. a dropout mask, even if it reseeds first); outputs that depend on
    each example's position (forward of the reordered batch is not the reordered forward).
    """
    # the legacy global generator is what scratch code draws its masks from: watch that one
    saved = np.random.get_state()  # noqa: NPY002
    try:
        # from a state of our own: a loss that reseeds and draws leaves the state it found
        # after the previous call, so only a fresh starting state shows the draws
        np.random.seed(0x5EED)  # noqa: NPY002
        start = np.random.get_state()  # noqa: NPY002
        _loss_or_nan(target, X, y)
        after = np.random.get_state()  # noqa: NPY002
    finally:
        np.random.set_state(saved)  # noqa: NPY002
    if not (np.array_equal(start[1], after[1]) and start[2] == after[2]):
        return "the loss draws random numbers from NumPy's global generator (a dropout mask, say)"
    forward = getattr(target, "forward", None)
    if callable(forward):
        try:
            with np.errstate(all="ignore"):
                out = np.asarray(forward(X.copy()), dtype=np.float64)
                reordered = X[:, order] if layout == "columns" else X[order]
                moved = np.asarray(forward(reordered), dtype=np.float64)
            expected = out[:, order] if layout == "columns" else out[order]
        except Exception:  # forward's own failures are the shapes probe's business
            return None
        if expected.shape == moved.shape and not np.allclose(moved, expected, rtol=1e-6, atol=1e-9):
            return ("the network's outputs depend on each example's position in the batch (a random "
                    "mask drawn with a fixed seed, say)")
    return None


def probe_example_order(target, *, batch_size: int = 16, permutations: int = 3, seed: int = 0,
                        dtype=np.float64, subject: str = "example order", layout: str | None = None,
                        task: Task | None = None, batches: Callable | None = None) -> ProbeResult:
    """loss(X, y) on a synthetic batch against the same examples reversed and shuffled.

    First the loss is evaluated twice in the same order: a loss that is not repeatable cannot
    be tested for order, and the probe is skipped with the reason (a warning). An order
    dependence fails the probe unless the network's own randomness explains it (a loss that
    draws from NumPy's random generator, or outputs tied to each example's position, as a
    dropout mask fixed by a seed gives); then it is a warning that says so.

    ``series["permutation"]`` numbers the orders tried, ``series["loss_difference"]`` is
    ``|loss(reordered) - loss(original)|`` for each (NaN when the call raised). ``layout``,
    ``task`` and ``batches`` are as for :func:`probe_shapes`.
    """
    target = probe_target(target)
    validate_seed(seed)
    positive("permutations", permutations, integer=True)
    if positive("batch_size", batch_size, integer=True) < 2:
        raise InvalidArgumentError("batch_size", f"got {batch_size}, expected at least 2 examples "
                                   "to reorder", "Pass batch_size=16, say.")
    if batches is not None:
        layout = layout or describe(target, seed=seed, dtype=dtype)[0]
        X, y = batches(batch_size)
    else:
        X, y, layout = synthetic_batch(target, batch_size, seed=seed, dtype=dtype, layout=layout,
                                       task=task)
    rng = np.random.default_rng(seed)
    orders = [np.arange(batch_size)[::-1]] + [rng.permutation(batch_size) for _ in range(permutations - 1)]
    findings: list[Finding] = []
    differences: list[float] = []
    series = {"permutation": [], "loss_difference": differences, "loss_difference_tolerance": []}
    # the network computes in its parameters' dtype too: a float32 network on float64 data
    # rounds like float32
    params = list(target_params(target).values())
    with parameters_kept(target, subject, findings):
        base = _loss_or_nan(target, X, y)
        again = _loss_or_nan(target, X, y)
        if base == base and again == again and abs(again - base) > _tolerance(X, base, batch_size, params):
            findings.append(Finding(
                "order_variance", subject,
                f"{subject}: skipped — the loss is {base:.9g} then {again:.9g} for the same batch in "
                "the same order, so a change under reordering could not be told from that",
                "Fix the random state inside the loss (turn dropout off, or seed its mask) to test "
                "example order.", severity="warning",
                data={"skipped": True, "first": base, "second": again}))
            return ProbeResult(subject, subject, findings, series,
                               skipped=f"the loss is not repeatable on the same batch ({base:.9g} "
                               f"then {again:.9g}); seed or switch off its randomness to test "
                               "example order")
        for order in orders:
            try:
                check_loss_order_invariant(target.loss, X, y, order, layout=layout, subject=subject,
                                           precision=params)
            except PropertyViolation as violation:
                reason = _randomness(target, X, y, layout, order) \
                    if violation.finding.kind == "order_variance" else None
                if reason is None:
                    findings.append(violation.finding)
                else:
                    findings.append(Finding(
                        "order_variance", subject,
                        f"{violation.finding.text} — {reason}; "
                        "assuming that is intended, "
                        "this is not counted as a bug",
                        "To test the loss's treatment of examples, run it with the random mask "
                        "turned off (test mode).", severity="warning",
                        data={**violation.finding.data, "reason": reason}))
                break
            finally:
                reordered = X[:, order] if layout == "columns" else X[order]
                differences.append(abs(_loss_or_nan(target, reordered, take_examples(y, order, layout))
                                       - base))
    series["permutation"] = list(range(1, len(differences) + 1))
    series["loss_difference_tolerance"] = [_tolerance(X, base, batch_size, params)] * len(differences)
    return ProbeResult(subject, subject, findings, series)


def _loss_or_nan(target, X, y) -> float:
    """The loss as a float, NaN when it raised or returned something else (reported elsewhere)."""
    try:
        return float(call_user(target.loss, X, y, call="loss"))
    except (UserCodeCrash, TypeError, ValueError):  # raised, or returned no number
        return float("nan")
