"""Re-check in float64 what a float32 check could not resolve.

A float32 check marks the entries whose gradients are below what the loss's rounding lets a
finite difference resolve (a ``precision`` finding with ``data["hidden"]``): there a right value,
0, -1x and 2x all pass. When the target can be copied into float64
(:func:`gradcheck.targets.widening.float64_copy`), those parameters are checked again on the
copy, entry by entry, and their float64 verdict, which can tell right from wrong, goes into
the float32 report.
Otherwise the float32 result stands, with its warning and a note saying why no copy was checked.
"""

from __future__ import annotations

import numpy as np

from gradcheck.api import check_gradients
from gradcheck.errors import GradcheckError
from gradcheck.findings import Finding
from gradcheck.results import GradientCheckResult, ParamReport
from gradcheck.targets.protocol import target_params
from gradcheck.targets.widening import float64_copy

#: Options that fix the step or the tolerance for the caller's dtype: with them, no re-check.
_CALLER_TUNED = ("eps", "atol")


def hidden_params(result: GradientCheckResult) -> dict[str, np.ndarray]:
    """Parameter name -> flat indices of the entries the loss's rounding hid, where any."""
    return {report.name: report.hidden_entries for report in result.params
            if report.hidden_entries is not None and len(report.hidden_entries)}


def recheck_in_float64(result: GradientCheckResult, target, X, y, options: dict) -> GradientCheckResult:
    """``result`` with its rounding-hidden entries judged on a float64 copy of ``target``.

    ``options`` are the keyword arguments the check ran with. Only the hidden entries are
    differenced again (2 loss calls each), on the copy: the user's arrays are never touched. The
    float64 verdict is adopted only when it shows the copy's loss reads those parameters.
    """
    hidden = hidden_params(result)
    if not hidden or any(options.get(name) is not None for name in _CALLER_TUNED):
        return result
    names = ", ".join(hidden)
    clone, X64, y64, why = float64_copy(target, X, y)
    if clone is None:
        result.notes.append(f"{result.dtype} could not judge some entries of {names}, and no float64 "
                            f"copy of the network was checked: {why}")
        return result
    params64 = {name: array for name, array in target_params(clone).items() if name in hidden}
    mode = options.get("mode", "full")
    try:
        wide = check_gradients(
            lambda: clone.loss(X64, y64), params64,
            lambda: {name: g for name, g in dict(clone.gradients(X64, y64)).items() if name in hidden},
            **{**options, "progress": None, "mode": "full" if mode == "directional" else mode,
               "entries": hidden})
    except GradcheckError as exc:  # too slow, or the copy's code raised: the float32 result stands
        result.notes.append(f"{result.dtype} could not judge some entries of {names}, and the "
                            f"check of a float64 copy of the network stopped: {exc}")
        return result
    result.n_loss_evals += wide.n_loss_evals
    unread = [f.subject for f in wide.findings if f.is_failure and f.data.get("not_read")]
    unsettled = [f.kind for f in wide.check_findings if f.kind in ("mutation", "nondeterministic")]
    if unread or unsettled:
        result.notes.append(f"{result.dtype} could not judge some entries of {names}; a float64 copy "
                            "of the network was checked but is not used: "
                            + (f"its loss does not read {', '.join(unread)}" if unread
                               else f"its check found {', '.join(unsettled)}"))
        return result
    for report in result.params:
        if report.name in hidden:
            _merge(report, wide[report.name], result.dtype)
    result.notes.append(f"{names}: entries below {result.dtype}'s resolution were checked again on a "
                        "float64 copy of the network (the same code on float64 arrays)")
    return result


def _merge(narrow: ParamReport, wide: ParamReport, dtype: str) -> None:
    """Put the float64 verdict on the hidden entries into the float32 report, saying so."""
    narrow.findings = [f for f in narrow.findings if not (f.kind == "precision" and f.data.get("hidden"))]
    narrow.n_loss_evals += wide.n_loss_evals
    if wide.passed:
        verdict, hint = "they agree", "Nothing to fix; run the network in float64 to see those numbers."
    elif not narrow.passed:
        # the entries float32 could judge already show the bug: one diagnosis is enough
        verdict, hint = "they are wrong there too", "The finding above covers them."
    else:
        verdict, hint = "the finding above comes from that check", "Run the network in float64 to see the same numbers."
        for finding in reversed([f for f in wide.findings if f.is_failure]):
            narrow.fail(finding)
        narrow.max_abs_error = max(narrow.max_abs_error, wide.max_abs_error)
        narrow.max_rel_error = max(narrow.max_rel_error, wide.max_rel_error)
        narrow.worst_index, narrow.worst_analytic, narrow.worst_numeric = (
            wide.worst_index, wide.worst_analytic, wide.worst_numeric)
    narrow.findings.append(Finding(
        kind="precision", subject=narrow.name, severity="info",
        message=f"{narrow.name}: {wide.n_checked} of its {narrow.n_checked} entries are too small "
        f"against {dtype}'s rounding to judge there, so they were checked on a float64 copy of the "
        f"network; {verdict} (precision)",
        hint=hint, data={"count": wide.n_checked, "from_dtype": dtype},
    ))


__all__ = ["recheck_in_float64", "hidden_params"]
