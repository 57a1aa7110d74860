"""Before any finite difference: does the loss leave the parameters alone, and is it repeatable?"""

from __future__ import annotations

import numpy as np

from gradcheck.findings import Finding


def mutation_findings(changed: list[str], by: str, *, when: str = "") -> list[Finding]:
    """One ``mutation`` finding per parameter that a call (``by``: "loss", "grads", ...) changed.

    ``when`` says when it was noticed, e.g. "during the finite differences".
    """
    during = f" {when}" if when else ""
    return [
        Finding(
            kind="mutation",
            subject=name,
            message=f"{name}: calling {by}{during} changed its values — finite differences are "
            "meaningless when the function under test moves the parameters (mutation)",
            hint=f"Your {by} function writes into {name} (an in-place update such as W -= lr * dW, "
            "or an in-place activation on a view of it); compute without modifying the parameters.",
        )
        for name in changed
    ]


def nondeterminism_finding(first: float, second: float) -> Finding | None:
    """A ``nondeterministic`` finding when two calls at the same point disagree beyond rounding."""
    if first == second or (np.isnan(first) and np.isnan(second)):
        return None
    tolerance = 64 * np.finfo(np.float64).eps * max(1.0, abs(first))
    if abs(first - second) <= tolerance:
        return None
    return Finding(
        kind="nondeterministic",
        subject="loss",
        message=f"loss: two calls at the same parameters gave {first!r} and {second!r} "
        "(nondeterministic)",
        hint="Something random runs inside the loss (a dropout mask drawn anew, data reshuffled, "
        "noise added): fix its seed or switch it off while checking gradients.",
        data={"first": first, "second": second},
    )
