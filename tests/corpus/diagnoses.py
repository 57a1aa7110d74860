"""Do the diagnoses name the cause? Both bug corpora scored against their declared causes.

A bug of the layer corpus (:mod:`tests.corpus.layers.catalogue`, checked through
``gradcheck.check_function_layer``) or of the shapes corpus (:mod:`tests.corpus.shapes.catalogue`)
declares a ``cause``. A shapes bug is checked as a user checks it: its network plugged in with
its glue (:mod:`tests.corpus.shapes.glue`, an adapter that knows the network's layers and input)
and ``gradcheck.run_suite``'s gradient checks (the network's and, for layer objects, each
layer's own); ``corpus="shapes-flat"`` checks the same build through ``check_gradients`` on its
parameters alone, with no structure to use. A failing finding *names* a
cause through its kind (:data:`KIND_CAUSES`), or, for a ``shape`` finding whose values were
compared once the gradient was aligned, through the alignment that made them agree
(:data:`SHAPE_CAUSES`). A bug is scored

- ``named`` when some failing finding names its declared cause and none names another,
- ``wrong`` when some failing finding names another cause (worse than saying nothing), unless
  that cause is a coarser true account of the declared one (:data:`COARSER`),
- ``unnamed`` otherwise (every failure says only that the values differ: ``mismatch``).

Shared by ``tests/corpus/test_diagnoses.py`` (seed 0, full mode) and
``scripts/diagnosis_table.py`` (every seed, dtype and mode asked for; it writes docs/diagnosis.md).
"""

from __future__ import annotations

import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

import gradcheck
from gradcheck.adapters.function_pairs import make_layer
from tests.corpus.layers import catalogue as layer_catalogue
from tests.corpus.shapes import catalogue as shape_catalogue
from tests.corpus.shapes import harness as shape_harness

#: The causes each finding kind names, in the vocabulary of the corpora's ``cause`` words. A kind
#: that says only that the values differ (``mismatch``), or something other than a cause (a
#: crash, NaN, a kink), names none.
KIND_CAUSES: dict[str, frozenset] = {
    "scale": frozenset({"scale"}),
    "sign": frozenset({"sign"}),
    "transpose": frozenset({"orientation"}),
    "reduction": frozenset({"reduction"}),
    # an analytic gradient exactly 0 where the loss depends on it: a term never added, or a
    # mask that zeroes live entries
    "zero": frozenset({"missing_term", "mask"}),
    # an index or orientation error: flipped, axes swapped, shifted by one, untransposed weight,
    # entries misplaced one for one
    "orientation": frozenset({"orientation", "index"}),
    # the gradient reaches entries the loss does not depend on, or is blocked from some it does
    "routing": frozenset({"routing", "mask"}),
    # a term of one size at one entry per row missing or extra: the label's -1, the label's own
    # margin counted by a hinge's mask
    "label_term": frozenset({"missing_term", "mask"}),
    # an additive term missing or extra: through a mean, a variance, another output, later steps
    "missing_term": frozenset({"missing_term", "recurrent_term"}),
    # an elementwise derivative evaluated on the wrong value
    # the contributions to one entry not added up: an `=` for `+=`, a repeated index
    "accumulation": frozenset({"index"}),
    "derivative": frozenset({"derivative"}),
    "jacobian": frozenset({"jacobian"}),
}

#: A ``shape`` finding names a cause when aligning the gradient (data["how"]) made its values
#: agree (data["values_right"]), or when its shape alone says which axis was summed.
SHAPE_CAUSES: dict[str, str] = {
    "transpose": "orientation",
    "permute": "orientation",
    "crop": "index",
    "sum": "reduction",
    "wrong_axis": "reduction",
}

#: Declared cause -> causes a finding may name without being wrong: a coarser account that is
#: still true. Softmax's Jacobian replaced by its diagonal drops the off-diagonal terms, so a
#: finding that says a term is missing (``zero``: entries never written) is true, though it does
#: not name the Jacobian.
COARSER: dict[str, frozenset] = {"jacobian": frozenset({"missing_term"})}

DTYPES = (np.float64, np.float32)
MODES = ("full", "sample", "directional")


def named_causes(findings) -> set[str]:
    """The causes the failing findings name (see the module docstring)."""
    causes: set[str] = set()
    for finding in findings:
        if not finding.is_failure:
            continue
        causes |= KIND_CAUSES.get(finding.kind, frozenset())
        how = finding.data.get("how")
        if finding.kind == "shape" and how in SHAPE_CAUSES and \
                (finding.data.get("values_right") or how == "wrong_axis"):
            causes.add(SHAPE_CAUSES[how])
    return causes


def score(cause: str, findings) -> str:
    """``named``, ``wrong`` or ``unnamed``: the failing findings against the declared ``cause``."""
    failing = [f for f in findings if f.is_failure]
    allowed = {cause} | COARSER.get(cause, frozenset())
    wrong = [f for f in failing if named_causes([f]) and not named_causes([f]) & allowed]
    if wrong:
        return "wrong"
    return "named" if cause in named_causes(failing) else "unnamed"


@dataclass(frozen=True)
class Outcome:
    """One bug checked once: what failed, and what the diagnosis named."""

    corpus: str
    bug: str
    cause: str
    seed: int
    dtype: str
    mode: str
    exact: bool  # failed on exactly the declared parameters (full mode: the only ones checked all)
    flagged: bool  # failed at all
    verdict: str  # named, wrong, unnamed
    kinds: tuple
    messages: tuple


def _outcome(corpus, bug, cause, seed, dtype, mode, result, wrong_names) -> Outcome:
    failing = [f for f in result.findings if f.is_failure]
    return Outcome(corpus, bug, cause, seed, np.dtype(dtype).name, mode,
                   exact=set(result.failed) == set(wrong_names), flagged=not result.passed,
                   verdict=score(cause, failing), kinds=tuple(sorted({f.kind for f in failing})),
                   messages=tuple(f.message for f in failing))


def layer_bug(bug, *, seed: int = 0, dtype=np.float64, mode: str = "full") -> Outcome:
    """One bug of the layer corpus through ``check_function_layer`` (the kind's example arguments)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = gradcheck.check_function_layer(make_layer(bug.forward, bug.backward, name=bug.kind),
                                                seed=seed, dtype=dtype, mode=mode)
    return _outcome("layers", bug.name, bug.cause, seed, dtype, mode, result, bug.wrong)


def flat_shape_bug(bug, *, seed: int = 0, dtype=np.float64, mode: str = "full") -> Outcome:
    """One bug of the shapes corpus through ``check_gradients`` on its parameters alone (``seed``
    picks the sampled entries and directions; the build is the catalogue's)."""
    target = shape_harness.target(bug, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = gradcheck.check_gradients(target.loss, target.params, target.grads, mode=mode, seed=seed)
    return _outcome("shapes-flat", bug.id, bug.cause, seed, dtype, mode, result, bug.wrong)


def harness_names(target, entry) -> dict[str, str]:
    """Each of a glued target's parameters under its name in the reference harness (the array of
    the same build with the same values), so a verdict can be compared with the bug's declaration."""
    dtype = next(iter(target.params.values())).dtype.type
    reference = shape_harness.target(entry, dtype)
    names = {}
    for name, array in target.params.items():
        same = [ref for ref, value in reference.params.items()
                if value.shape == array.shape and np.array_equal(value, array)]
        if not same:
            raise AssertionError(f"{name} is no array of the harness's build")
        names[name] = name if name in same else same[0]
    return names


def glued_exactly(bug, target, wrong_gradients) -> bool:
    """Did the suite fail exactly the bug's parameters? The network's checks name its parameters
    (mapped to the harness's names); layer checks' ``layer<k>_<kind>.input`` stand for ``input``
    (a glued network's input gradient is checked layer by layer, when it has layers), or for
    what the bug declares of its layers' inputs (``layer_inputs``)."""
    names = harness_names(target, bug)
    network = {names[name] for name in wrong_gradients if name in names}
    if network != set(bug.wrong) - {"input"}:
        return False
    if hasattr(target, "layers"):
        expected = bug.layer_inputs if bug.layer_inputs is not None else "input" in bug.wrong
        return any(name.endswith(".input") for name in wrong_gradients) == expected
    return True


def shape_bug(bug, *, seed: int = 0, dtype=np.float64, mode: str = "full") -> Outcome:
    """One bug of the shapes corpus as a user checks it: the glued network through
    ``run_suite``'s gradient checks (every failing finding of every check is scored)."""
    from tests.corpus.shapes import glue

    target = glue.target(bug, dtype, bug.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        suite = gradcheck.run_suite(target, groups=("gradients",), mode=mode, seed=seed)
    failing = [f for outcome in suite.outcomes for f in getattr(outcome.result, "findings", ())
               if f.is_failure]
    wrong = suite.verdict.wrong_gradients
    return Outcome("shapes", bug.id, bug.cause, seed, np.dtype(dtype).name, mode,
                   exact=glued_exactly(bug, target, wrong), flagged=bool(wrong),
                   verdict=score(bug.cause, failing), kinds=tuple(sorted({f.kind for f in failing})),
                   messages=tuple(f.message for f in failing))


LAYER_BUGS = layer_catalogue.BUGS
SHAPE_BUGS = shape_catalogue.BUGS


RUNNERS = {"layers": layer_bug, "shapes": shape_bug, "shapes-flat": flat_shape_bug}
BUGS = {"layers": LAYER_BUGS, "shapes": SHAPE_BUGS, "shapes-flat": SHAPE_BUGS}


def run(corpus: str, bug, **options) -> Outcome:
    """One bug of ``corpus`` (a key of :data:`RUNNERS`) checked once."""
    return RUNNERS[corpus](bug, **options)


def table(outcomes) -> dict[str, Counter]:
    """Per cause (and ``all``): how many runs were named, wrong and unnamed."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for outcome in outcomes:
        counts[outcome.cause][outcome.verdict] += 1
        counts["all"][outcome.verdict] += 1
    return dict(counts)


def render(counts: dict[str, Counter]) -> str:
    """The table as text: cause, runs, named (share), wrong, unnamed."""
    lines = [f"{'cause':<15} {'runs':>5} {'named':>7} {'share':>6} {'wrong':>6} {'unnamed':>8}"]
    for cause in sorted(counts, key=lambda c: (c == "all", c)):
        row = counts[cause]
        runs = sum(row.values())
        lines.append(f"{cause:<15} {runs:>5} {row['named']:>7} {row['named'] / runs:>6.0%} "
                     f"{row['wrong']:>6} {row['unnamed']:>8}")
    return "\n".join(lines)
