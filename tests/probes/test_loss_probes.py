"""Loss probes against reference_net's losses and a zoo of broken ones, named by defect.

Breaking magnitudes come from the dtype's limits: the probes' confidently wrong example has
true-class probability about exp(-2m) (exactly 0 once that underflows), and sigmoid(m) rounds
to exactly 1 once exp(-m) is below half an ulp of 1.
"""

import numpy as np
import pytest

from gradcheck.errors import InvalidArgumentError
from gradcheck.probes import MAGNITUDES, function_probes_for, probe_binary_cross_entropy, probe_cross_entropy
from gradcheck.results.findings import PROBE_KINDS
from reference_net.activations import softmax
from reference_net.losses import (
    BinaryCrossEntropy,
    SoftmaxCrossEntropy,
    binary_cross_entropy,
    binary_cross_entropy_from_probs,
    softmax_cross_entropy,
)

DTYPES = [np.float32, np.float64]


def first_magnitude(predicate):
    with np.errstate(all="ignore"):
        return next(m for m in MAGNITUDES if predicate(m))


def probability_hits_zero(dtype):
    """The first swept m at which exp(-2m), cast to dtype, is exactly 0."""
    return first_magnitude(lambda m: np.asarray(np.exp(-2 * m), dtype) == 0)


def sigmoid_hits_one(dtype):
    """The first swept m at which sigmoid(m), cast to dtype, is exactly 1."""
    return first_magnitude(lambda m: np.asarray(1 / (1 + np.exp(-m)), dtype) == 1)


def one_hot(P, y):
    Y = np.zeros_like(P)
    Y[np.arange(y.size), y] = 1
    return Y


# --- the zoo: cross-entropy from probabilities (rows are examples) -------------------------

def unclipped_cross_entropy(P, y):
    return -np.mean(np.log(P[np.arange(y.size), y]))


def unclipped_cross_entropy_gradient(P, y):
    return -one_hot(P, y) / P / y.size


def clipped_cross_entropy(P, y, eps=1e-12):
    return -np.mean(np.log(np.clip(P[np.arange(y.size), y], eps, 1 - eps)))


def clipped_cross_entropy_gradient(P, y, eps=1e-12):
    return -one_hot(P, y) / np.clip(P, eps, 1) / y.size


def log_of_softmax_cross_entropy(Z, y):
    return unclipped_cross_entropy(softmax(Z), y)


def naive_softmax_cross_entropy(Z, y):
    E = np.exp(Z)
    return unclipped_cross_entropy(E / E.sum(axis=1, keepdims=True), y)


def summed_cross_entropy(Z, y):
    return softmax_cross_entropy(Z, y) * y.size


def reference_ce_gradient(Z, y):
    loss = SoftmaxCrossEntropy()
    loss.forward(Z, y)
    return loss.backward()


def summed_ce_gradient(Z, y):
    return reference_ce_gradient(Z, y) * y.size


# --- binary cross-entropy ------------------------------------------------------------------

def unclipped_binary_cross_entropy(p, y):
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def unclipped_binary_cross_entropy_gradient(p, y):
    return (p - y) / (p * (1 - p)) / p.size


def naive_sigmoid_binary_cross_entropy(z, y):
    return unclipped_binary_cross_entropy(1 / (1 + np.exp(-z)), y)


def reference_bce_gradient(z, y):
    loss = BinaryCrossEntropy()
    loss.forward(z, y)
    return loss.backward()


# --- reference losses pass everything -------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("probe", "fn", "options"), [
    (probe_cross_entropy, softmax_cross_entropy, {"from_logits": True, "gradient": reference_ce_gradient}),
    (probe_cross_entropy, softmax_cross_entropy, {"from_logits": True, "one_hot": True}),
    (probe_cross_entropy, clipped_cross_entropy, {"gradient": clipped_cross_entropy_gradient}),
    (probe_binary_cross_entropy, binary_cross_entropy, {"from_logits": True, "gradient": reference_bce_gradient}),
    (probe_binary_cross_entropy, binary_cross_entropy, {"from_logits": True, "shape": (7,)}),
    (probe_binary_cross_entropy, binary_cross_entropy_from_probs, {}),
], ids=["ce_logits", "ce_logits_one_hot", "ce_clipped", "bce_logits", "bce_logits_1d", "bce_probs"])
def test_reference_losses_pass(probe, fn, options, dtype):
    result = probe(fn, dtype=dtype, **options)
    assert result.passed, [str(f) for f in result.findings]
    assert result.breaking_magnitude is None


# --- probabilities exactly 0 and 1 ----------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_unclipped_cross_entropy_breaks_where_a_probability_becomes_0(dtype):
    result = probe_cross_entropy(unclipped_cross_entropy, dtype=dtype)
    finding = result.findings[0]
    assert (finding.kind, finding.data["part"]) == ("nonfinite", "loss")
    assert result.breaking_magnitude == probability_hits_zero(dtype)
    assert "exactly 0 or 1" in finding.message
    assert "clip probabilities to [eps, 1 - eps]" in finding.hint.lower()
    assert "log-sum-exp" in finding.hint


def test_unclipped_cross_entropy_gradient_is_reported_apart_from_the_loss():
    result = probe_cross_entropy(unclipped_cross_entropy, gradient=unclipped_cross_entropy_gradient)
    parts = {(f.kind, f.data["part"]) for f in result.findings}
    assert parts == {("nonfinite", "loss"), ("nonfinite", "gradient")}
    gradient = next(f for f in result.findings if f.data["part"] == "gradient")
    assert gradient.data["magnitude"] == probability_hits_zero(np.float64)
    assert "softmax(Z) - Y" in gradient.hint


def test_clipped_loss_with_unclipped_gradient_fails_on_the_gradient():
    result = probe_cross_entropy(clipped_cross_entropy, gradient=unclipped_cross_entropy_gradient)
    assert [(f.kind, f.data["part"]) for f in result.findings] == [("nonfinite", "gradient")]
    assert result.breaking_magnitude == probability_hits_zero(np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_unclipped_binary_cross_entropy_breaks_where_a_probability_becomes_1(dtype):
    result = probe_binary_cross_entropy(unclipped_binary_cross_entropy,
                                        gradient=unclipped_binary_cross_entropy_gradient, dtype=dtype)
    assert {(f.kind, f.data["part"]) for f in result.findings} == {("nonfinite", "loss"),
                                                                   ("nonfinite", "gradient")}
    assert result.breaking_magnitude == sigmoid_hits_one(dtype)
    assert "clip probabilities" in result.findings[0].hint.lower()


# --- logits ---------------------------------------------------------------------------------

def exp_overflows(dtype):
    return first_magnitude(lambda m: np.isinf(np.exp(np.asarray(m, dtype))))


@pytest.mark.parametrize(("fn", "breaks_at"), [
    (log_of_softmax_cross_entropy, probability_hits_zero),
    # whichever comes first: exp(m) overflows or the true class's probability underflows
    (naive_softmax_cross_entropy, lambda dtype: min(exp_overflows(dtype), probability_hits_zero(dtype))),
])
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_from_logits_without_log_sum_exp_is_nonfinite(fn, breaks_at, dtype):
    result = probe_cross_entropy(fn, from_logits=True, dtype=dtype)
    assert result.findings[0].kind == "nonfinite"
    assert result.breaking_magnitude == breaks_at(dtype)
    assert "log-sum-exp" in result.findings[0].hint


def test_summed_cross_entropy_is_inaccurate_and_named_a_sum():
    result = probe_cross_entropy(summed_cross_entropy, gradient=summed_ce_gradient, from_logits=True)
    assert [(f.kind, f.data["part"]) for f in result.findings] == [("inaccurate", "loss"),
                                                                   ("inaccurate", "gradient")]
    assert "a sum over examples, not the mean" in result.findings[0].message
    assert result.breaking_magnitude == 1.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_through_naive_sigmoid_breaks_where_sigmoid_hits_1(dtype):
    result = probe_binary_cross_entropy(naive_sigmoid_binary_cross_entropy, from_logits=True, dtype=dtype)
    assert result.findings[0].kind == "nonfinite"
    assert result.breaking_magnitude == sigmoid_hits_one(dtype)


@pytest.mark.parametrize(("fn", "kind"), [
    (lambda P, y: np.log(P), "shape"),
    (lambda P, y: 1 / 0, "exception"),
])
def test_loss_structure_defects_found_at_magnitude_1(fn, kind):
    result = probe_cross_entropy(fn)
    assert result.findings[0].kind == kind
    assert result.breaking_magnitude == 1.0


def test_gradient_of_the_wrong_shape_is_a_shape_finding():
    result = probe_binary_cross_entropy(binary_cross_entropy_from_probs, gradient=lambda p, y: (p - y).ravel())
    assert [(f.kind, f.data["part"]) for f in result.findings] == [("shape", "gradient")]


def test_columns_layout_puts_classes_first():
    def columns_ce(Z, y):  # classes x examples
        return softmax_cross_entropy(Z.T, y)

    assert probe_cross_entropy(columns_ce, from_logits=True, axis=0).passed
    assert not probe_cross_entropy(columns_ce, from_logits=True, axis=-1).passed


def test_series_are_plottable_and_json_safe():
    import json

    result = probe_cross_entropy(unclipped_cross_entropy, gradient=unclipped_cross_entropy_gradient)
    assert all(len(v) == len(MAGNITUDES) for v in result.series.values())
    assert set(result.series) == {"magnitude", "loss", "exact_loss", "probabilities_exactly_0_or_1",
                                  "max_abs_gradient"}
    json.dumps(result.to_dict(), allow_nan=False)
    assert all(f.kind in PROBE_KINDS for f in result.findings)


def test_non_callable_loss_is_rejected_with_a_fix():
    with pytest.raises(InvalidArgumentError, match="Pass the function itself"):
        probe_cross_entropy(softmax_cross_entropy(np.zeros((1, 2)), np.array([0])))


# --- choosing probes by what a target offers ------------------------------------------------

class LossesOnly:
    """A target exposing loss functions (and one gradient) instead of a network."""

    layout = "rows"
    cross_entropy = staticmethod(unclipped_cross_entropy)
    cross_entropy_gradient = staticmethod(unclipped_cross_entropy_gradient)
    binary_cross_entropy_from_logits = staticmethod(binary_cross_entropy)
    sigmoid = None  # not callable: not probed


def test_function_probes_follow_the_attributes():
    results = function_probes_for(LossesOnly())
    assert [(r.name, r.subject, r.passed) for r in results] == [
        ("cross_entropy", "cross_entropy", False),
        ("binary_cross_entropy", "binary_cross_entropy_from_logits", True),
    ]
    assert {f.data["part"] for f in results[0].findings} == {"loss", "gradient"}


def test_function_probes_for_an_object_without_functions_is_empty():
    assert function_probes_for(object()) == []
