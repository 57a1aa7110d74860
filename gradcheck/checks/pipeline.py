"""The one post-check pipeline: a whole network's gradient check, and what other checks add to it.

A gradient check's result changes after it is made only here, and only through the result's own
methods (:meth:`~gradcheck.results.model.ParamReport.fail`, ``excuse``, ``note``):

1. :func:`check_target_gradients` checks every parameter of a protocol target on one batch, with
   the diagnosis context the target declares (batch size, per-example code, the loss's
   reduction), then re-checks a float32 network on a float64 copy of itself
   (:mod:`gradcheck.checks.recheck`); :func:`check_problem_gradients` does the same for a
   function-pair layer on its example arguments;
2. :func:`excuse_extra_terms` answers a layer check with the whole network's: a layer's stored
   gradient that differs from its forward's, while the network's agree, carries a term of the
   loss outside the layer.

The finding kinds that only say the values differ, which either step may excuse, are
:data:`gradcheck.results.findings.VALUE_KINDS`, defined once.
"""

from __future__ import annotations

import numpy as np

from gradcheck.checks.gradients import check_gradients
from gradcheck.checks.recheck import recheck_in_float64
from gradcheck.errors import GradcheckError
from gradcheck.results import GradientCheckResult
from gradcheck.results.findings import VALUE_KINDS, Finding
from gradcheck.targets.protocol import OutOfProcess, bound_loss, target_params
from gradcheck.targets.usercode import Named, call_user


def check_target_gradients(target, X, y, **options) -> GradientCheckResult:
    """Check every parameter of a protocol target on one batch (X, y).

    ``options`` go to :func:`gradcheck.check_gradients`; the batch size is taken from y so a
    gradient off by exactly that factor is named as a missing 1/m. Parameters with entries below
    the dtype's resolution are checked again in float64 (:mod:`gradcheck.checks.recheck`).
    """
    options.setdefault("batch_size", int(np.asarray(y).shape[0]))
    # hints in the code's own terms: per-example backprop has no batch axis, a summed loss no 1/m
    options.setdefault("per_example", bool(getattr(target, "per_example", False)))
    options.setdefault("reduction", _declared_reduction(target, X, y)
                       or measured_reduction(target, X, y, options.get("layout") or getattr(target, "layout", None)))
    # penalty strengths the code holds (layers' weight_regularizer_l2...): named when they explain
    options.setdefault("penalties", tuple(getattr(target, "penalties", ()) or ()))
    result = check_gradients(bound_loss(target, X, y), target_params(target),
                             lambda: target.gradients(X, y), **options)
    for note in getattr(target, "adapter_notes", ()):  # what an adapter found (tied arrays...)
        result.note(str(note))
    # entries float32's rounding hides are judged again on a float64 copy, when one can be made
    return recheck_in_float64(result, target, X, y, options)




def check_problem_gradients(problem, **options) -> GradientCheckResult:
    """Check a function-pair layer (:class:`gradcheck.adapters.function_pairs.LayerProblem`) on
    its example arguments, then, for float32 arguments, on a float64 copy of it."""
    loss = Named(problem.loss, "forward")
    if isinstance(problem.layer.forward, OutOfProcess):  # a layer in another process: many points per round trip
        loss.entry_values = problem.layer.forward.projection(problem)
    result = check_gradients(loss, problem.params, problem.gradients, **options)
    return recheck_in_float64(result, problem, None, None, options)


def _declared_reduction(target, X, y) -> str | None:
    """``target.reduction`` ("mean" or "sum"), which an adapter may only know after its first
    call of the user's loss (it measures it): then after one call, through the guarded call."""
    reduction = getattr(target, "reduction", None)
    if reduction is None and isinstance(getattr(type(target), "reduction", None), property):
        call_user(target.loss, X, y, call="loss")
        reduction = getattr(target, "reduction", None)
    return reduction


#: How close the loss of a batch taken twice must come to 1x or 2x the batch's own to tell a mean
#: from a sum (a mean is the same on the batch twice, a sum doubles).
REDUCTION_CLOSE = 1e-9


def measured_reduction(target, X, y, layout: str | None) -> str | None:
    """How the target's loss reduces over the examples, measured: the loss of the batch taken
    twice is the batch's own for a mean and twice it for a sum; None when it is neither (dropout
    drawn per example, a loss that is not a plain reduction) or the loss cannot tell."""
    if layout not in ("rows", "columns"):
        return None
    try:
        once = float(call_user(target.loss, X, y, call="loss"))
        twice = float(call_user(target.loss, *_taken_twice(X, y, layout), call="loss"))
    except (GradcheckError, TypeError, ValueError):  # it raises or cannot take the batch twice
        return None
    if not (np.isfinite(once) and np.isfinite(twice)) or once == 0:
        return None
    ratio = twice / once
    if abs(ratio - 1) <= REDUCTION_CLOSE * 1e3:
        return "mean"
    if abs(ratio - 2) <= REDUCTION_CLOSE * 2e3:
        return "sum"
    return None


def _taken_twice(X, y, layout: str):
    X, y = np.asarray(X), np.asarray(y)
    axis = 1 if layout == "columns" else 0
    y_axis = 1 if (layout == "columns" and y.ndim == 2) else 0
    return np.concatenate([X, X], axis=axis), np.concatenate([y, y], axis=y_axis)


def excuse_extra_terms(layer: GradientCheckResult, network: GradientCheckResult) -> GradientCheckResult:
    """A layer's stored parameter gradients that disagree with its forward alone, while the whole
    network's gradients agree with finite differences, carry a term of the network's loss that
    the layer's forward does not compute (an L2 penalty on its weights, for instance): that is
    not a bug, so those failures become warnings. The input gradient is never excused.
    """
    if not network.passed:
        return layer
    for report in layer.params:
        if report.passed or report.name == "input":
            continue
        report.excuse(VALUE_KINDS, Finding(
            kind="mismatch", subject=report.name, severity="info",
            text=f"{report.name}: the layer's stored gradient differs from its forward's, but the "
            "whole network's gradients agree with finite differences, so the difference is a term "
            "of the network's loss outside this layer's forward (an L2 penalty, for instance); not "
            "counted as a failure",
            hint="Nothing to fix if your loss adds such a term for this layer's parameters.",
            data={"outside_the_layer": True}))
    return layer
