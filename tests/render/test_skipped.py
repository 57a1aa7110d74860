"""A probe that could not judge its target is "skipped" everywhere: JSON, terminal, HTML, plugin."""

import numpy as np

from gradcheck.engine import Check
from gradcheck.probes.base import skipped_probe
from gradcheck.render.html_report import render_html
from gradcheck.results import CheckOutcome, ProbeResult, SuiteResult
from gradcheck.results.findings import Finding

REASON = "the target does regression, which has no class labels to leave out of a batch"


def skipped_suite() -> SuiteResult:
    check = Check("check_gradients_batch_missing_classes", "no class labels", "gradients",
                  lambda: skipped_probe("missing classes", REASON))
    passing = Check("check_softmax_stable", "softmax", "probes",
                    lambda: ProbeResult("softmax", "softmax"))
    return SuiteResult(target="net.py:target", outcomes=[check.outcome(), passing.outcome()])


def test_a_skipped_probe_has_status_skipped_and_does_not_fail_the_suite():
    suite = skipped_suite()
    outcome = suite["check_gradients_batch_missing_classes"]
    assert outcome.status == "skipped" and outcome.skip_reason == REASON
    assert suite.passed and suite.failed == []
    assert suite.to_dict()["checks"][0]["status"] == "skipped"


def test_the_terminal_prints_skipped_with_the_reason_not_pass():
    lines = str(skipped_suite()).splitlines()
    assert lines[0].startswith("skip  check_gradients_batch_missing_classes")
    assert lines[1].strip() == f"skipped: {REASON}"
    assert lines[-1] == ("PASSED: 1 of 2 checks of net.py:target, 1 skipped: "
                         "check_gradients_batch_missing_classes")


def test_the_json_round_trip_keeps_the_status_and_the_reason():
    again = SuiteResult.from_dict(skipped_suite().to_dict())
    outcome = again["check_gradients_batch_missing_classes"]
    assert outcome.status == "skipped" and outcome.result.skipped == REASON


def test_an_unknown_status_is_refused():
    try:
        CheckOutcome("c", "probes", "d", "skiped")
    except ValueError as exc:
        assert "skipped" in str(exc)
    else:
        raise AssertionError("an unknown status was accepted")


def test_the_html_page_shows_the_probe_as_skipped_with_its_reason():
    html = render_html(skipped_suite())
    assert '<span class="badge skip">skipped</span>' in html
    assert f"skipped: {REASON}" in html


def test_a_seeded_but_unrepeatable_loss_skips_example_order_with_the_reason():
    from gradcheck.probes.contracts import probe_example_order

    class Jittery:
        def __init__(self):
            self.W = np.ones((4, 3))
            self.rng = np.random.default_rng(0)

        @property
        def params(self):
            return {"W": self.W}

        def loss(self, X, y):
            return float(np.mean((X @ self.W) ** 2) + self.rng.normal())

        def gradients(self, X, y):
            return {"W": 2 * X.T @ (X @ self.W) / (X.shape[0] * 3)}

    X, y = np.random.default_rng(1).normal(size=(8, 4)), np.zeros(8, dtype=int)
    result = probe_example_order(Jittery(), batches=lambda n: (X[:n], y[:n]), batch_size=8,
                                 layout="rows")
    assert result.passed and result.skipped.startswith("the loss is not repeatable")
    assert Check("check_loss_example_order", "order", "probes", lambda: result).outcome().status == "skipped"


def test_a_failing_probe_with_a_skipped_part_is_still_a_failure():
    result = ProbeResult("p", "p", [Finding("shape", "p", "p: wrong")], skipped=None)
    assert Check("check_p", "p", "probes", lambda: result).outcome().status == "failed"
