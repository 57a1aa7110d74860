"""A float32 network checked again on a float64 copy of itself.

In float32 a finite difference resolves about 1e-3 of the loss per unit step, and the tolerance
is 2e-2: entries whose gradients are below the rounding (a ``precision`` finding with
``data["hidden"]``) pass whatever their value, and an error of a few per mille passes too. When
the target can be copied into float64 (:func:`gradcheck.targets.widening.float64_copy`), the
same check runs on the copy, where both limits are about a thousand times smaller, and its
verdict is added to the float32 report. Otherwise the float32 result stands, with its warning
and a note saying why no copy was checked.
"""

from __future__ import annotations

import numpy as np

from gradcheck.checks.gradients import check_gradients
from gradcheck.errors import GradcheckError
from gradcheck.numeric.model import tolerance_for
from gradcheck.numeric.perturbation import Snapshot
from gradcheck.results import GradientCheckResult, ParamReport
from gradcheck.results.findings import VALUE_KINDS, Finding
from gradcheck.targets.protocol import target_params
from gradcheck.targets.usercode import call_user
from gradcheck.targets.widening import float64_copy

#: Options that fix the step or the tolerance for the caller's dtype: with them, no re-check.
_CALLER_TUNED = ("eps", "atol")


def hidden_params(result: GradientCheckResult) -> dict[str, int]:
    """Parameter name -> how many entries the loss's rounding hid, where any (from the
    ``precision`` finding that says so)."""
    return {report.name: int(f.data["count"]) for report in result.params for f in report.findings
            if f.kind == "precision" and f.data.get("hidden")}


def recheck_in_float64(result: GradientCheckResult, target, X, y, options: dict) -> GradientCheckResult:
    """``result`` (of a float32 or float16 network) with a float64 copy's verdict added.

    ``options`` are the keyword arguments the check ran with; the copy is checked with the same
    mode and seed, in float64 (tolerance rtol 1e-4 where float32's is 2e-2), and the user's arrays
    are never touched. Per parameter: a failure in either precision is a failure; the copy's
    verdict covers the entries float32's rounding hid. The copy is used only when it reproduces
    the network (:func:`~gradcheck.targets.widening.float64_copy`) and its loss reads the copied
    parameters.
    """
    if "float64" in (result.dtype, result.precision) or \
            any(options.get(name) is not None for name in _CALLER_TUNED):
        return result  # float64 parameters, or a loss that computes in float64 already
    hidden = hidden_params(result)
    names = ", ".join(hidden)
    clone, X64, y64, why = float64_copy(target, X, y)
    if clone is None:
        # said whenever float32 alone judged the network, with the reason no copy was made
        result.note(f"no float64 copy of the network was checked: {why}"
                    + (f"; {result.dtype} could not judge some entries of {names}" if hidden else ""))
        return result
    try:
        wide = check_gradients(lambda: clone.loss(X64, y64), target_params(clone),
                               lambda: clone.gradients(X64, y64), **{**options, "progress": None})
    except GradcheckError as exc:  # too slow, or the copy's code raised: the float32 result stands
        result.note(f"the check of a float64 copy of the network stopped: {exc}"
                    + (f"; {result.dtype} could not judge some entries of {names}" if hidden else ""))
        return result
    result.spent(wide.n_loss_evals)
    unread = [f.subject for f in wide.findings if f.is_failure and f.data.get("not_read")]
    # the copy's loss not reading a parameter the original's reads: it reads other arrays, so it
    # is not the same network; one neither reads is the network's own symptom (a bug), not the copy's
    foreign = [name for name in unread if _read_by(target, X, y, name, result)]
    unsettled = [f.kind for f in wide.check_findings if f.is_failure or f.kind in ("mutation", "nondeterministic")]
    unsettled += [f"{r.name} unchecked" for r in wide.params if r.tier == "unchecked"]
    if foreign or unsettled:
        result.note("a float64 copy of the network was checked but is not used: "
                    + (f"its loss does not read {', '.join(foreign)}, which the network's does" if foreign
                       else f"its check found {', '.join(unsettled)}"))
        return result
    for report in result.params:
        _merge(report, wide[report.name], result.dtype, hidden.get(report.name, 0))
    result.note(f"checked again on a float64 copy of the network (the same code on float64 arrays), "
                f"which tells apart errors {result.dtype}'s rounding hides")
    return result


#: Entries of a parameter moved to see whether the original network's loss reads it.
_READ_PROBES = 3


def _read_by(target, X, y, name: str, result: GradientCheckResult) -> bool:
    """Whether the original network's loss reads parameter ``name``: no, when its own check
    found it unread; else whether moving a few of its entries (by 1 %, restored bit for bit)
    moves the loss."""
    if any(f.data.get("not_read") for f in result[name].findings):
        return False
    array = target_params(target)[name]
    if array.size == 0:
        return False
    snapshot = Snapshot({name: array})
    try:
        base = call_user(target.loss, X, y, call="loss")
        flat = array.reshape(-1) if array.flags.c_contiguous else None
        for index in range(min(_READ_PROBES, array.size)):
            where = index if flat is not None else np.unravel_index(index, array.shape)
            target_array = flat if flat is not None else array
            original = target_array[where]
            target_array[where] = original + array.dtype.type(1e-2 * max(1.0, abs(float(original))))
            moved = call_user(target.loss, X, y, call="loss") != base
            target_array[where] = original
            if moved:
                return True
        return False
    except GradcheckError:
        return True  # cannot tell: the copy is not used
    finally:
        snapshot.restore()


def _sharper(wide: ParamReport, narrow: ParamReport) -> bool:
    """The float64 diagnosis names what is wrong (a scale, a sign...) where float32's only says
    the values differ."""
    return narrow.failing_kinds == ["mismatch"] and bool(set(wide.failing_kinds) - {"mismatch"})


def narrow_rtol(dtype: str) -> float:
    return tolerance_for(np.dtype(dtype)).rtol


def _precision_note(name: str, verdict: str, hint: str, dtype: str, hidden: int) -> Finding:
    return Finding(kind="precision", subject=name, severity="info",
                   text=f"{name}: {verdict}", hint=hint,
                   data={"count": hidden, "from_dtype": dtype})


def _merge(narrow: ParamReport, wide: ParamReport, dtype: str, hidden: int) -> None:
    """Add the float64 copy's verdict on one parameter to its float32 report, saying so."""
    narrow.forget(lambda f: f.kind == "precision" and f.data.get("hidden"))
    narrow.spent(wide.n_loss_evals)
    if wide.passed and not narrow.passed:
        # float32's values disagree, the float64 copy's agree: the disagreement is float32's
        # (its rounding, or kinks its larger step crosses) when it only says the values differ
        excused = narrow.excuse(VALUE_KINDS, _precision_note(
            narrow.name, f"on a float64 copy of the network this gradient agrees: the disagreement "
            f"above is {dtype}'s (its rounding, or kinks its larger step crosses), not the formula's",
            "Check the network in float64 before changing the code.", dtype, hidden))
        if not excused:
            narrow.note(_precision_note(
                narrow.name, "on a float64 copy of the network this gradient agrees, but the finding "
                f"above is not one {dtype}'s rounding explains", "Look at the finding above; it holds "
                "in float32.", dtype, hidden))
        return
    if wide.passed:
        if hidden:
            narrow.note(_precision_note(
                narrow.name, f"{hidden} of its entries are too small against {dtype}'s rounding to "
                "judge there; on a float64 copy of the network they agree",
                "Nothing to fix; run the network in float64 to see those numbers.", dtype, hidden))
        return
    if not narrow.passed and not _sharper(wide, narrow):
        # float32 already shows the bug: one diagnosis is enough
        narrow.note(_precision_note(narrow.name, "a float64 copy of the network is wrong there too",
                                    "The finding above covers it.", dtype, hidden))
        return
    if not narrow.passed:
        # float32 saw only "the values differ"; the copy's cleaner numbers say how
        verdict, hint = (f"diagnosed on a float64 copy of the network, where {dtype}'s rounding and "
                         "kinks blur the numbers less", "Run the network in float64 to see the same numbers.")
        narrow.forget(lambda f: f.is_failure)
    else:
        why = f"{dtype}'s tolerance (rtol {narrow_rtol(dtype):g}) and rounding let this error pass"
        if hidden:
            why += f" ({hidden} of its entries are too small to judge in {dtype} at all)"
        verdict, hint = (f"{why}; the finding above comes from a float64 copy of the network",
                         "Run the network in float64 to see the same numbers.")
        narrow.take_numbers(wide)
    for finding in reversed([f for f in wide.findings if f.is_failure]):
        narrow.fail(finding)
    narrow.note(_precision_note(narrow.name, verdict, hint, dtype, hidden))


__all__ = ["recheck_in_float64", "hidden_params"]
