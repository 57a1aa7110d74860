"""The diagnoses on both bug corpora: every bug flagged on exactly its parameters, no diagnosis
naming a cause other than the bug's, and at least the measured share of causes named (the table
of docs/diagnosis.md; ``scripts/diagnosis_table.py`` runs every seed, dtype and mode).

Full mode at seed 0: the layer corpus in both dtypes, the shapes corpus in float64 (its float32
runs are in the script)."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.results.findings import Finding
from tests.corpus import diagnoses

#: The share of bugs whose cause is named today at seed 0, rounded down: a change that names
#: fewer fails here. The issues ask for ISSUE_BAR on both corpora.
MEASURED_FLOOR = {"layers": 0.81, "shapes": 0.84, "shapes-flat": 0.24}
#: The share the issues ask for.
ISSUE_BAR = 0.8
#: The corpora whose share of causes named has reached the issues' bar, held to it from then on.
REACHED = ("layers", "shapes")

#: (corpus, dtype): the layer corpus in both dtypes; the shapes corpus as a user checks it (its
#: glue and run_suite) and through check_gradients on its parameters alone, in float64.
RUNS = [("layers", np.float64), ("layers", np.float32), ("shapes", np.float64),
        ("shapes-flat", np.float64)]


def _share(runs) -> float:
    return sum(o.verdict == "named" for o in runs) / len(runs)


@pytest.mark.parametrize("corpus, dtype", RUNS, ids=[f"{c}-{np.dtype(d).name}" for c, d in RUNS])
def test_the_diagnoses_of_a_corpus(corpus, dtype):
    """Every bug checked once (the checks of a glued network take a while): flagged on exactly
    its parameters, no wrong cause, no fewer causes named than measured, and the issues' bar
    held where it is reached (and said to be reached where it newly is)."""
    runs = [diagnoses.run(corpus, bug, seed=0, dtype=dtype, mode="full") for bug in diagnoses.BUGS[corpus]]
    assert not [o.bug for o in runs if not o.exact], "flagged on other parameters than declared"
    assert not {o.bug: o.messages for o in runs if o.verdict == "wrong"}, "a wrong cause named"
    share = _share(runs)
    assert share >= MEASURED_FLOOR[corpus], [o.bug for o in runs if o.verdict != "named"]
    if corpus in REACHED:
        assert share >= ISSUE_BAR
    else:
        assert share < ISSUE_BAR, f"{corpus} now names {share:.0%}: add it to REACHED"


# ---- the scoring ---------------------------------------------------------------------------

def _failure(kind, **data):
    return Finding(kind=kind, subject="x", text="x: the values differ", hint="", data=data)


@pytest.mark.parametrize("cause, findings, verdict", [
    ("scale", [_failure("scale")], "named"),
    ("index", [_failure("orientation")], "named"),
    ("mask", [_failure("routing")], "named"),
    ("derivative", [_failure("mismatch")], "unnamed"),
    ("derivative", [_failure("scale")], "wrong"),
    ("scale", [_failure("scale"), _failure("sign")], "wrong"),
    ("index", [_failure("shape", how="crop", values_right=True)], "named"),
    ("index", [_failure("shape", how="crop", values_right=False)], "unnamed"),
    ("reduction", [_failure("shape", how="wrong_axis", values_right=False)], "named"),
    ("index", [_failure("accumulation")], "named"),
    ("recurrent_term", [_failure("accumulation")], "wrong"),
    ("recurrent_term", [_failure("missing_term", how="through_time")], "named"),
    # a coarser true account is not wrong, and does not name the cause either
    ("jacobian", [_failure("zero")], "unnamed"),
    ("derivative", [_failure("zero")], "wrong"),
])
def test_how_a_run_is_scored(cause, findings, verdict):
    assert diagnoses.score(cause, findings) == verdict
