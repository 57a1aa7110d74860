"""Re-check in float64 what a float32 check could not resolve.

A float32 check marks the entries whose gradients are below what the loss's rounding lets a
finite difference resolve (a ``precision`` finding with ``data["hidden"]``): there a right value,
0, -1x and 2x all pass. When the target can be copied into float64
(:func:`gradcheck.targets.widening.float64_copy`), those parameters are checked again on the
copy, and their float64 reports, which can tell right from wrong, replace the float32 ones.
Otherwise the float32 result stands, with its warning and a note saying why no copy was checked.
"""

from __future__ import annotations

from gradcheck.api import check_gradients
from gradcheck.findings import Finding
from gradcheck.results import GradientCheckResult, ParamReport
from gradcheck.targets.protocol import target_params
from gradcheck.targets.widening import float64_copy

#: Options that fix the step or the tolerance for the caller's dtype: with them, no re-check.
_CALLER_TUNED = ("eps", "atol")


def hidden_params(result: GradientCheckResult) -> dict[str, int]:
    """Parameter name -> number of entries the loss's rounding hid, for parameters with any."""
    return {report.name: int(finding.data.get("count", 0))
            for report in result.params for finding in report.findings
            if finding.kind == "precision" and finding.data.get("hidden")}


def recheck_in_float64(result: GradientCheckResult, target, X, y, options: dict) -> GradientCheckResult:
    """``result`` with the reports of its rounding-hidden parameters replaced by float64 ones.

    ``options`` are the keyword arguments the float32 check ran with. The float64 check runs on
    a copy of ``target`` (the user's arrays are never touched) and only on the parameters with
    hidden entries; it is adopted only when it shows the copy's loss reads those parameters.
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
    wide = check_gradients(
        lambda: clone.loss(X64, y64), params64,
        lambda: {name: g for name, g in dict(clone.gradients(X64, y64)).items() if name in hidden},
        **{**options, "progress": None})
    unread = [f.subject for f in wide.findings if f.is_failure and f.data.get("not_read")]
    unsettled = [f.kind for f in wide.check_findings if f.kind in ("mutation", "nondeterministic")]
    if unread or unsettled:
        result.notes.append(f"{result.dtype} could not judge some entries of {names}; a float64 copy "
                            "of the network was checked but is not used: "
                            + (f"its loss does not read {', '.join(unread)}" if unread
                               else f"its check found {', '.join(unsettled)}"))
        result.n_loss_evals += wide.n_loss_evals
        return result
    by_name = {report.name: report for report in wide.params}
    result.params = [_adopted(report, by_name[report.name], hidden[report.name], result.dtype)
                     if report.name in by_name else report for report in result.params]
    result.n_loss_evals += wide.n_loss_evals
    result.notes.append(f"{names}: {len(hidden)} parameter{'s' if len(hidden) > 1 else ''} with "
                        f"entries below {result.dtype}'s resolution, checked again on a float64 copy "
                        "of the network (the same code on float64 arrays)")
    return result


def _adopted(narrow: ParamReport, wide: ParamReport, count: int, dtype: str) -> ParamReport:
    """The float64 report, saying where it comes from."""
    verdict = "they agree there" if wide.passed else "the findings above come from that check"
    wide.findings.append(Finding(
        kind="precision", subject=wide.name, severity="info",
        message=f"{wide.name}: {count} of its {narrow.n_checked} entries are below what {dtype}'s "
        f"rounding lets a finite difference resolve, so it was checked on a float64 copy of the "
        f"network; {verdict} (precision)",
        hint="Nothing to do; run the network in float64 to see the same numbers.",
        data={"count": count, "from_dtype": dtype},
    ))
    return wide


__all__ = ["recheck_in_float64", "hidden_params"]
