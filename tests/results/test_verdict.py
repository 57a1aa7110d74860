"""The closing line of a gradient check says what happened, from its findings' kinds."""

import numpy as np
import pytest

import gradcheck
from gradcheck.results.verdict import UNFAIR, gradient_verdict


class NoisyLoss:
    """A loss that adds fresh noise on every call, like dropout drawn anew."""

    def __init__(self):
        self.rng = np.random.default_rng(0)
        self.W = np.linspace(-1.0, 1.0, 6).reshape(3, 2)

    def __call__(self):
        return float(np.sum(self.W ** 2) + 1e-3 * self.rng.normal())


def test_a_nondeterministic_loss_ends_could_not_check_with_both_values():
    noisy = NoisyLoss()
    result = gradcheck.check_gradients(noisy, {"W": noisy.W}, {"W": 2 * noisy.W})
    finding = result.check_findings[0]
    last = str(result).splitlines()[-1]
    assert last.startswith("could not check: the loss is not repeatable")
    assert repr(finding.data["first"]) in last and repr(finding.data["second"]) in last
    assert "wrong gradient" not in str(result) and "fix the seed" in last


def test_a_parameter_not_checked_is_not_called_a_pass():
    noisy = NoisyLoss()
    result = gradcheck.check_gradients(noisy, {"W": noisy.W}, {"W": 2 * noisy.W})
    assert result["W"].verdict == "unchecked"
    row = [line for line in str(result).splitlines() if line.startswith("W ")][0]
    assert row.split()[-1] == "unchecked"


def test_a_loss_that_writes_into_its_parameters_ends_could_not_check():
    W = np.ones((2, 2))

    def loss():
        W[0, 0] += 1.0
        return float(np.sum(W ** 2))

    result = gradcheck.check_gradients(loss, {"W": W}, {"W": 2 * W})
    assert gradient_verdict(result).startswith("could not check: calling the code changed W")


def test_a_wrong_gradient_still_names_the_parameter():
    W = np.linspace(-1.0, 1.0, 6).reshape(3, 2)
    result = gradcheck.check_gradients(lambda: float(np.sum(W ** 2)), {"W": W}, {"W": 3 * W})
    assert gradient_verdict(result) == "FAILED: wrong gradient for W"


@pytest.mark.parametrize("kind", sorted(UNFAIR))
def test_every_verdict_sentence_formats(kind):
    start, sentence = UNFAIR[kind]
    assert "{" not in sentence.format(subjects="W", first="1.0", second="2.0")
    assert start in ("could not check", "FAILED")
