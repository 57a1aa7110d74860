"""The closing verdict of a gradient check, derived from what its findings say happened.

One table, :data:`VERDICTS`, maps a finding kind to the sentence that ends the check when a
finding of that kind is present: a check whose loss is not repeatable, or whose code moves
the parameters, was never a fair comparison, so it ends "could not check" rather than
blaming a gradient. Kinds are looked up in table order, before any wrong parameter.
"""

from __future__ import annotations

from gradcheck.results import GradientCheckResult
from gradcheck.text import printable

#: Finding kind -> verdict sentence, most fundamental first. ``{subjects}`` lists the
#: subjects of the findings of that kind; ``{first}``/``{second}`` come from the finding's data.
VERDICTS: dict[str, str] = {
    "nondeterministic": (
        "could not check: the loss is not repeatable (two calls at the same parameters gave "
        "{first} and {second}); fix the seed of any dropout or noise, or pass a deterministic loss"
    ),
    "mutation": (
        "could not check: calling the code changed {subjects}; finite differences need a loss and "
        "gradients that leave the parameters alone"
    ),
    "exception": (
        "FAILED: the gradients could not be computed ({subjects} raised); the exception above is "
        "the bug"
    ),
}


def _number(value) -> str:
    return "?" if value is None else f"{float(value)!r}"


def gradient_verdict(result: GradientCheckResult) -> str:
    """The last line of a gradient check's text, e.g. ``"FAILED: wrong gradient for W1"``."""
    if result.passed:
        return f"PASSED: all {len(result.params)} parameters agree with finite differences"
    failures = [f for f in result.findings if f.is_failure]
    for kind, sentence in VERDICTS.items():
        of_kind = [f for f in failures if f.kind == kind]
        if of_kind:
            data = of_kind[0].data
            subjects = ", ".join(dict.fromkeys(printable(f.subject) for f in of_kind))
            return sentence.format(subjects=subjects, first=_number(data.get("first")),
                                   second=_number(data.get("second")))
    if result.failed:
        return f"FAILED: wrong gradient for {', '.join(printable(n) for n in result.failed)}"
    whole = [f"{printable(f.subject)} ({f.kind})" for f in result.check_findings if f.is_failure]
    return f"FAILED: {', '.join(whole) or 'the check'}"
