"""Activation probes against reference_net and a zoo of broken activations, named by defect.

Breaking magnitudes are derived from the dtype's limits, not copied from a run: the probes'
first example spans exactly [-m, m], so exp(m) overflows past log(finfo.max) and exp(-2m)
underflows to zero past -log(smallest subnormal).
"""

import numpy as np
import pytest

from gradcheck.probes import MAGNITUDES, function_probes_for, probe_log_softmax, probe_sigmoid, probe_softmax
from gradcheck.results.findings import PROBE_KINDS
from reference_net.activations import log_softmax, sigmoid, softmax
from reference_net.network import build_mlp
from tests.probes.broken import naive_softmax

DTYPES = [np.float32, np.float64]


def first_magnitude(predicate):
    with np.errstate(all="ignore"):
        return next(m for m in MAGNITUDES if predicate(m))


def exp_overflows(dtype):
    """The first swept m at which exp(m) is inf in dtype."""
    return first_magnitude(lambda m: np.isinf(np.exp(np.asarray(m, dtype))))


def exp_underflows_at_twice(dtype):
    """The first swept m at which exp(-2m) is exactly 0 in dtype."""
    return first_magnitude(lambda m: np.exp(np.asarray(-2 * m, dtype)) == 0)


# --- the zoo -------------------------------------------------------------------------------



def row_scaled_softmax(Z):
    """Divides the logits by their largest size first: finite and normalised, but not softmax."""
    return softmax(Z / np.abs(Z).max(axis=-1, keepdims=True))


def flattening_softmax(Z):
    return softmax(Z.ravel())


def log_of_softmax(Z):
    return np.log(softmax(Z))


def naive_log_softmax(Z):
    return Z - np.log(np.sum(np.exp(Z), axis=-1, keepdims=True))


def batch_normalised_log_softmax(Z):
    shifted = Z - Z.max()
    return shifted - np.log(np.sum(np.exp(shifted)))


def wrong_axis_log_softmax(Z):
    return log_softmax(Z, axis=0)


def naive_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def exp_ratio_sigmoid(z):
    return np.exp(z) / (1 + np.exp(z))


def sign_flipped_sigmoid(z):
    return 1 / (1 + np.exp(z))


def clipped_input_sigmoid(z):
    """Clips z to +-30 to dodge the overflow: finite, but wrong once |z| > 30."""
    return naive_sigmoid(np.clip(z, -30, 30))


def raising(Z):
    raise RuntimeError("boom")


# --- reference functions pass everything ----------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("probe", "fn", "axis"), [
    (probe_softmax, softmax, -1),
    (probe_softmax, lambda Z: softmax(Z, axis=0), 0),
    (probe_log_softmax, log_softmax, -1),
    (probe_log_softmax, lambda Z: log_softmax(Z, axis=0), 0),
], ids=["softmax", "softmax_columns", "log_softmax", "log_softmax_columns"])
def test_reference_class_functions_pass(probe, fn, axis, dtype):
    result = probe(fn, axis=axis, dtype=dtype)
    assert result.passed, [str(f) for f in result.findings]
    assert result.breaking_magnitude is None


@pytest.mark.parametrize("dtype", DTYPES)
def test_reference_sigmoid_passes_at_plus_minus_1000(dtype):
    result = probe_sigmoid(sigmoid, dtype=dtype)
    assert result.passed, [str(f) for f in result.findings]
    assert 1000.0 in result.series["magnitude"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_reference_network_passes_every_function_probe(dtype):
    results = function_probes_for(build_mlp((6, 4, 3)), dtype=dtype)
    assert [r.name for r in results] == ["softmax", "sigmoid"]
    assert all(r.passed for r in results), [str(f) for r in results for f in r.findings]


# --- softmax: the new shift and argmax checks ------------------------------------------------

@pytest.mark.parametrize(("fn", "kind"), [
    (row_scaled_softmax, "shift_variance"),
    (flattening_softmax, "shape"),
    (lambda Z: softmax(-Z), "argmax"),
])
def test_softmax_defects_found_at_magnitude_1(fn, kind):
    result = probe_softmax(fn)
    assert [f.kind for f in result.findings][:1] == [kind]
    assert result.breaking_magnitude == 1.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_naive_softmax_is_nonfinite_where_exp_overflows(dtype):
    result = probe_softmax(naive_softmax, dtype=dtype)
    assert result.findings[0].kind == "nonfinite"
    assert "overflow" in result.findings[0].message
    assert result.breaking_magnitude == exp_overflows(dtype)


def test_softmax_series_has_a_shift_error_per_magnitude():
    series = probe_softmax(softmax).series
    assert len(series["max_shift_error"]) == len(series["magnitude"])


# --- log-softmax ----------------------------------------------------------------------------

@pytest.mark.parametrize(("fn", "kind"), [
    (batch_normalised_log_softmax, "not_normalized"),
    (wrong_axis_log_softmax, "wrong_axis"),
    (raising, "exception"),
    (lambda Z: log_softmax(Z) + 0.5, "not_normalized"),
    (lambda Z: log_softmax(Z)[:, :-1], "shape"),
])
def test_log_softmax_defects_found_at_magnitude_1(fn, kind):
    result = probe_log_softmax(fn)
    assert result.findings[0].kind == kind
    assert result.breaking_magnitude == 1.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_of_softmax_breaks_where_exp_of_minus_2m_underflows(dtype):
    result = probe_log_softmax(log_of_softmax, dtype=dtype)
    assert result.findings[0].kind == "nonfinite"
    assert "divide by zero encountered in log" in result.findings[0].message
    assert result.breaking_magnitude == exp_underflows_at_twice(dtype)
    assert "log-sum-exp" in result.findings[0].hint


@pytest.mark.parametrize("dtype", DTYPES)
def test_naive_log_softmax_breaks_where_exp_overflows(dtype):
    result = probe_log_softmax(naive_log_softmax, dtype=dtype)
    assert result.findings[0].kind == "nonfinite"
    assert result.breaking_magnitude == exp_overflows(dtype)


def test_log_softmax_exception_message_is_in_the_finding():
    assert "boom" in probe_log_softmax(raising).findings[0].message


def test_log_softmax_with_a_stray_temperature_is_inaccurate():
    # normalised, order-preserving and shift-invariant, yet not log-softmax(Z)
    result = probe_log_softmax(lambda Z: log_softmax(Z / 2))
    assert result.findings[0].kind == "inaccurate"
    assert result.breaking_magnitude == 1.0


# --- sigmoid --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_naive_sigmoid_overflows_where_exp_overflows(dtype):
    result = probe_sigmoid(naive_sigmoid, dtype=dtype)
    assert [f.kind for f in result.findings] == ["overflow"]
    assert result.breaking_magnitude == exp_overflows(dtype)
    assert "overflow encountered in exp" in result.findings[0].message
    assert "np.abs(z)" in result.findings[0].hint


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_ratio_sigmoid_is_nonfinite_where_exp_overflows(dtype):
    result = probe_sigmoid(exp_ratio_sigmoid, dtype=dtype)
    assert result.findings[0].kind == "nonfinite"
    assert result.breaking_magnitude == exp_overflows(dtype)


@pytest.mark.parametrize(("fn", "kind", "magnitude"), [
    (sign_flipped_sigmoid, "inaccurate", 1.0),
    (lambda z: np.tanh(z), "inaccurate", 1.0),
    (lambda z: sigmoid(z).ravel(), "shape", 1.0),
    (raising, "exception", 1.0),
])
def test_broken_sigmoid_kind(fn, kind, magnitude):
    result = probe_sigmoid(fn)
    assert result.findings[0].kind == kind
    assert result.breaking_magnitude == magnitude


def test_clipped_input_sigmoid_is_inaccurate_once_inputs_pass_the_clip():
    result = probe_sigmoid(clipped_input_sigmoid)
    assert result.findings[0].kind == "inaccurate"
    assert result.breaking_magnitude == first_magnitude(lambda m: m > 30)


def test_asymmetric_sigmoid_is_a_symmetry_finding():
    # right for z >= 0; for z < 0 it returns 1 - sigma(|z|) computed in float32
    def asymmetric(z):
        s = sigmoid(z)
        return np.where(z >= 0, s, (1 - sigmoid(-z).astype(np.float32)).astype(z.dtype))

    result = probe_sigmoid(asymmetric)
    assert result.findings[0].kind in {"inaccurate", "symmetry"}
    assert not result.passed


# --- every finding kind is in the vocabulary; results are JSON-safe ------------------------

@pytest.mark.parametrize(("probe", "fn"), [
    (probe_softmax, naive_softmax), (probe_log_softmax, log_of_softmax),
    (probe_sigmoid, naive_sigmoid), (probe_sigmoid, sign_flipped_sigmoid),
    (probe_softmax, row_scaled_softmax),
])
def test_kinds_are_probe_kinds_and_to_dict_is_json_safe(probe, fn):
    import json

    result = probe(fn)
    assert all(f.kind in PROBE_KINDS for f in result.findings)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["breaking_magnitude"] == result.breaking_magnitude


@pytest.mark.parametrize("probe", [probe_softmax, probe_log_softmax, probe_sigmoid])
def test_bad_dtype_is_rejected_with_a_fix(probe):
    from gradcheck.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="float32 or float64"):
        probe(softmax, dtype=np.int64)
