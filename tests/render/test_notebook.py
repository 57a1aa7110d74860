"""Results display as tables in a notebook (``_repr_html_``), escaped like the report."""

from __future__ import annotations

import numpy as np

from gradcheck import check_gradients
from gradcheck.findings import Finding
from gradcheck.results import GradientCheckResult, ProbeResult, SuiteResult, CheckOutcome

EVIL = "<script>alert(1)</script>"


def _result(name: str = "W", scale: float = 1.0) -> GradientCheckResult:
    W = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    return check_gradients(lambda: float(np.sum(W ** 2)), {name: W}, lambda: {name: scale * 2 * W})


def test_a_gradient_check_is_a_table_with_the_worst_entry():
    result = _result(scale=3.0)
    html = result._repr_html_()
    assert html.count("<tr>") == 1 + len(result.params)
    report = result["W"]
    assert f"W[{', '.join(map(str, report.worst_index))}]" in html
    assert "(2, 3)" in html and "FAIL" in html and "(scale)" in html


def test_a_passing_check_says_pass():
    html = _result()._repr_html_()
    assert "pass" in html and "FAIL" not in html


def test_user_text_is_escaped():
    html = _result(name=EVIL, scale=3.0)._repr_html_()
    assert EVIL not in html and "&lt;script&gt;" in html
    probe = ProbeResult("p", "softmax", False, [Finding(kind="overflow", subject="softmax",
                                                        message=EVIL, hint=EVIL)])
    assert EVIL not in probe._repr_html_() and "&lt;script&gt;alert(1)" in probe._repr_html_()


def test_a_probe_shows_where_it_breaks():
    probe = ProbeResult("p", "softmax", False, [Finding(kind="overflow", subject="softmax",
                                                        message="softmax overflows")],
                        breaking_magnitude=711.0)
    html = probe._repr_html_()
    assert "breaks at 711" in html and "softmax overflows" in html and "FAIL" in html


def test_a_suite_is_one_row_per_check():
    suite = SuiteResult(target=EVIL, outcomes=[
        CheckOutcome("check_gradients_batch1", "gradients", "one example", "failed", _result(scale=3.0)),
        CheckOutcome("check_shapes_any_batch_size", "probes", "shapes", "error", None, "no forward"),
    ])
    html = suite._repr_html_()
    assert html.count("<tr>") == 3
    assert "check_gradients_batch1" in html and "ERROR" in html and "no forward" in html
    assert "(scale)" in html  # the failing check's first finding
    assert EVIL not in html
