"""Known answers for the diagnoses: the numbers behind scale, sign, reduction and shape findings.

These pin the arithmetic (the fitted factor, which entries, which kind), not the wording.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.checks.diagnosis import CodeContext, diagnose_shape, diagnose_values, fit_scale, format_index


def _diagnose(analytic, numeric, batch_size=None, **options):
    checked = np.ones(analytic.shape, dtype=bool)
    ok = np.isclose(analytic, numeric, rtol=1e-4, atol=1e-8)
    return diagnose_values("W", analytic, numeric, checked, ok,
                           context=CodeContext(batch_size=batch_size), **options)


NUMERIC = np.random.default_rng(0).normal(size=(4, 3))


def test_fit_scale_recovers_an_exact_factor():
    c, residual = fit_scale(2.5 * NUMERIC.ravel(), NUMERIC.ravel())
    assert c == pytest.approx(2.5) and residual == pytest.approx(0.0, abs=1e-12)


def test_fit_scale_of_a_zero_numeric_is_undefined():
    c, residual = fit_scale(np.ones(3), np.zeros(3))
    assert np.isnan(c) and residual == np.inf


@pytest.mark.parametrize("factor, batch_size, kind", [
    (64.0, 64, "scale"),     # a missing 1/m
    (1 / 64, 64, "scale"),   # 1/m applied twice
    (-1.0, None, "sign"),
    (0.0, None, "zero"),
])
def test_value_diagnoses_of_a_constant_factor(factor, batch_size, kind):
    finding = _diagnose(factor * NUMERIC, NUMERIC, batch_size=batch_size)
    assert finding.kind == kind and finding.is_failure and finding.subject == "W"


def test_a_missing_one_over_m_is_named_with_the_batch_size():
    finding = _diagnose(64.0 * NUMERIC, NUMERIC, batch_size=64)
    assert "64" in finding.message


def test_one_value_repeated_for_every_entry_is_a_reduction():
    analytic = np.full((4, 3), NUMERIC.sum())
    finding = _diagnose(analytic, NUMERIC, reduced_to_scalar=True)
    assert finding.kind == "reduction"


def test_a_transposed_square_gradient_is_named():
    square = np.random.default_rng(1).normal(size=(3, 3))
    assert _diagnose(square.T.copy(), square).kind == "transpose"


def test_nonfinite_analytic_values_come_first():
    analytic = NUMERIC.copy()
    analytic[1, 2] = np.nan
    assert _diagnose(analytic, NUMERIC).kind == "nonfinite"


@pytest.mark.parametrize("analytic_shape, param_shape, how, fails", [
    ((3, 4), (4, 3), "transpose", True),
    ((), (4, 3), "broadcast", True),
    ((3,), (3, 1), "reshape", True),    # W - lr * dW would be (3, 3)
    ((1, 3), (3,), "reshape", True),    # W - lr * dW would be (1, 3)
    ((3,), (1, 3), "reshape", False),   # W - lr * dW keeps (1, 3): a warning, the update works
    ((12,), (4, 3), None, True),        # not a fix gradcheck makes: the check of that parameter fails
])
def test_shape_diagnoses(analytic_shape, param_shape, how, fails):
    mismatch = diagnose_shape("W", analytic_shape, param_shape)
    finding = mismatch.finding()
    assert mismatch.how == how and finding.is_failure == fails
    if how == "reshape":
        assert ("(3, 3)" in finding.message) == (param_shape == (3, 1))


@pytest.mark.parametrize("shape, flat, text", [((4, 3), 7, "[2, 1]"), ((5,), 3, "[3]"),
                                               ((2, 2, 2), 5, "[1, 0, 1]")])
def test_format_index(shape, flat, text):
    assert format_index(shape, flat) == text
