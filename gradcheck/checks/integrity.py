"""Before any finite difference: does the loss leave the parameters alone, and is it repeatable?

:class:`ArrayGuard` is the one snapshot-and-restore guard every check runs user code under.
"""

from __future__ import annotations

import numpy as np

from gradcheck.numeric.model import repeat_tolerance
from gradcheck.numeric.perturbation import Snapshot
from gradcheck.results.findings import Finding


def mutation_findings(changed: list[str], by: str, *, when: str = "") -> list[Finding]:
    """One ``mutation`` finding per parameter that a call (``by``: "loss", "grads", ...) changed.

    ``when`` says when it was noticed, e.g. "during the finite differences".
    """
    during = f" {when}" if when else ""
    return [
        Finding(
            kind="mutation",
            subject=name,
            text=f"{name}: calling {by}{during} changed its values — finite differences are "
            "meaningless when the function under test moves the parameters",
            hint=f"Your {by} function writes into {name} (an in-place update such as W -= lr * dW, "
            "or an in-place activation on a view of it); compute without modifying the parameters.",
        )
        for name in changed
    ]


def nondeterminism_finding(first: float, second: float, dtype=np.float64) -> Finding | None:
    """A ``nondeterministic`` finding when two calls at the same point disagree beyond the
    rounding of a loss computed in ``dtype``."""
    if first == second or (np.isnan(first) and np.isnan(second)):
        return None
    if abs(first - second) <= repeat_tolerance(first, dtype):
        return None
    return Finding(
        kind="nondeterministic",
        subject="loss",
        text=f"loss: two calls at the same parameters gave {first!r} and {second!r}",
        hint="Something random runs inside the loss (a dropout mask drawn anew, data reshuffled, "
        "noise added): fix its seed or switch it off while checking gradients.",
        data={"first": first, "second": second},
    )


#: Note of a result stopped because the loss is not a pure function of the parameters.
IMPURE_NOTE = ("finite differences were not run: the loss must be a pure function of the "
               "parameters for them to mean anything")
#: Note of a result whose gradients function raised before anything could be compared.
CRASH_NOTE = "finite differences were not run: the analytic gradients could not be computed"


class NotRun(Exception):
    """Finite differences cannot mean anything: ``findings`` say why, ``note`` goes on the result."""

    def __init__(self, findings: list[Finding], note: str = IMPURE_NOTE):
        super().__init__(note)
        self.findings, self.note = list(findings), note


class ArrayGuard:
    """The snapshot-and-restore guard around everything a check does to the user's arrays.

    A :class:`~gradcheck.numeric.perturbation.Snapshot` is taken on entry and restored on exit,
    whatever happens (its signal handling included). Inside, :meth:`unchanged_by` stops the
    check with :class:`NotRun` when a user call moved an array, and :meth:`stop` stops it for
    any other reason; the ``with`` block then ends quietly and ``stopped`` holds the reason::

        with ArrayGuard(params) as guard:
            f0 = loss()
            guard.unchanged_by("loss")
            ...
        if guard.stopped is not None:
            return a result that did not run, from guard.stopped.findings and .note
    """

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.snapshot = Snapshot(arrays)
        self.stopped: NotRun | None = None

    def changed(self) -> list[str]:
        """Names of the arrays whose values differ from the snapshot, bit for bit."""
        return self.snapshot.changed()

    def unchanged_by(self, call: str) -> None:
        """Stop the check with a ``mutation`` finding per array that ``call`` changed."""
        changed = self.snapshot.changed()
        if changed:
            raise NotRun(mutation_findings(changed, call))

    def stop(self, findings: list[Finding], note: str = IMPURE_NOTE) -> None:
        raise NotRun(findings, note)

    def __enter__(self) -> ArrayGuard:
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        self.snapshot.restore()
        if isinstance(exc, NotRun):
            self.stopped = exc
            return True
        return False
