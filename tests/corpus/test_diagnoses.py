"""The diagnoses on both bug corpora: every bug flagged on exactly its parameters, no diagnosis
naming a cause other than the bug's, and at least the measured share of causes named (the table
of docs/diagnosis.md; ``scripts/diagnosis_table.py`` runs every seed, dtype and mode).

Full mode at seed 0: the layer corpus in both dtypes, the shapes corpus in float64 (its float32
runs are in the script)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from gradcheck.results.findings import Finding
from tests.corpus import diagnoses

BUGS = {"layers": diagnoses.LAYER_BUGS, "shapes": diagnoses.SHAPE_BUGS}

#: The share of bugs whose cause is named today at seed 0 (float64 and float32 alike), rounded
#: down: a change that names fewer fails here. The issues ask for 0.8 on both; see ISSUE_BAR.
MEASURED_FLOOR = {"layers": 0.81, "shapes": 0.20}
#: The share the issues ask for.
ISSUE_BAR = 0.8

RUNS = [("layers", np.float64), ("layers", np.float32), ("shapes", np.float64)]


@cache
def outcomes(corpus: str, dtype) -> tuple:
    return tuple(diagnoses.run(corpus, bug, seed=0, dtype=dtype, mode="full") for bug in BUGS[corpus])


def _share(runs) -> float:
    return sum(o.verdict == "named" for o in runs) / len(runs)


@pytest.mark.parametrize("corpus, dtype", RUNS, ids=[f"{c}-{np.dtype(d).name}" for c, d in RUNS])
def test_every_bug_is_flagged_on_exactly_its_parameters(corpus, dtype):
    inexact = [o.bug for o in outcomes(corpus, dtype) if not o.exact]
    assert not inexact


@pytest.mark.parametrize("corpus, dtype", RUNS, ids=[f"{c}-{np.dtype(d).name}" for c, d in RUNS])
def test_no_diagnosis_names_a_wrong_cause(corpus, dtype):
    wrong = {o.bug: o.messages for o in outcomes(corpus, dtype) if o.verdict == "wrong"}
    assert not wrong


@pytest.mark.parametrize("corpus, dtype", RUNS, ids=[f"{c}-{np.dtype(d).name}" for c, d in RUNS])
def test_the_share_of_causes_named_does_not_fall(corpus, dtype):
    runs = outcomes(corpus, dtype)
    unnamed = [o.bug for o in runs if o.verdict != "named"]
    assert _share(runs) >= MEASURED_FLOOR[corpus], unnamed


#: The corpora whose share of causes named has reached the issues' bar.
REACHED = ("layers",)


@pytest.mark.parametrize("corpus", [
    pytest.param(corpus, marks=() if corpus in REACHED else pytest.mark.xfail(
        strict=True, reason="the issues' bar: 80 % of causes named; not reached yet "
                            "(docs/diagnosis.md lists what is still unnamed)"))
    for corpus in ("layers", "shapes")])
def test_the_issues_bar_of_causes_named(corpus):
    assert _share(outcomes(corpus, np.float64)) >= ISSUE_BAR


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
])
def test_how_a_run_is_scored(cause, findings, verdict):
    assert diagnoses.score(cause, findings) == verdict
