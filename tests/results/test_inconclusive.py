"""Could not judge is a status of its own: never a pass, never a failure, said everywhere.

A check whose findings fail nothing, but one of which says something decisive could not be judged
(``Finding.inconclusive``: a warning whose ``data["inconclusive"]`` says what would let it judge),
is ``inconclusive``; a suite is failed if any check failed, else not checked if any could not run,
else inconclusive if any could not judge, else passed, with exit codes 1, 2, 3 and 0.
"""

import json

import pytest

from gradcheck.results import CheckOutcome, SuiteResult
from gradcheck.results.findings import Finding
from gradcheck.results.verdict import EXIT_CODES, gradient_verdict
from tests.render import samples


def test_a_warning_that_says_what_would_judge_it_is_inconclusive():
    finding = samples.undecided_finding()
    assert finding.inconclusive and not finding.is_failure
    assert finding.remedy.startswith("float64 would judge them")
    plain = Finding("precision", "W1", "W1: 3 of its 160 entries could not be judged", severity="info")
    assert not plain.inconclusive and plain.remedy == ""


def test_a_parameter_none_of_whose_entries_was_judged_is_not_a_pass():
    result = samples.gradients([samples.param("W1", (20, 8), findings=[samples.undecided_finding()]),
                                samples.param("b1", (8,))])
    assert result.passed and result.inconclusive and result.undecided == ["W1"]
    assert result["W1"].verdict == "not judged" and result["b1"].verdict == "pass"
    last = gradient_verdict(result)
    assert last.startswith("INCONCLUSIVE: could not judge W1 (1 of 2 parameters agree")
    assert "float64 would judge them" in last
    assert result.to_dict()["inconclusive"] == ["W1"]


def test_a_failure_is_a_failure_whatever_could_not_be_judged():
    wrong = samples.finding("b1", "b1[0]: analytic 1, numeric 2", "a 1/m")
    result = samples.gradients([samples.param("W1", (20, 8), findings=[samples.undecided_finding()]),
                                samples.param("b1", (8,), findings=[wrong])])
    assert not result.passed and not result.inconclusive
    assert CheckOutcome.of("check", "gradients", "d", result).status == "failed"


def test_the_outcome_of_a_check_that_could_not_judge_is_inconclusive_and_not_a_failure():
    suite = samples.inconclusive_suite()
    outcome = suite["check_gradients_batch8"]
    assert outcome.status == "inconclusive" and outcome.passed
    assert "none of its 160 entries could be judged" in outcome.undecided_reason
    assert "float64 would judge them" in outcome.undecided_reason
    assert suite["check_gradients_batch1"].undecided_reason is None


def test_the_suite_verdict_is_inconclusive_with_its_own_word_headline_and_exit_code():
    verdict = samples.inconclusive_suite().verdict
    assert verdict.status == "inconclusive" and verdict.exit_code == 3 and verdict.word == "INCONCLUSIVE"
    assert verdict.headline == ("INCONCLUSIVE: could not judge W1 (check_gradients_batch8): float64 "
                                "would judge them (dtype='float64')")
    assert verdict.undecided == ("W1",) and verdict.label == "inconclusive"
    assert verdict.to_dict()["inconclusive"] == ["W1"] and verdict.counts["inconclusive"] == 1


@pytest.mark.parametrize("other, status", [("failed", "failed"), ("error", "not_checked")])
def test_a_failure_or_a_check_that_could_not_run_comes_first(other, status):
    suite = samples.inconclusive_suite()
    if other == "failed":
        suite.outcomes.append(samples.outcome("check_gradients_batch20", samples.failing_gradients()))
    else:
        suite.outcomes.append(CheckOutcome.could_not_run("check_shapes", "probes", "d", "it raised"))
    verdict = suite.verdict
    assert verdict.status == status
    assert "could not judge W1 (check_gradients_batch8)" in verdict.headline


def test_the_exit_codes_are_0_1_2_3():
    assert EXIT_CODES == {"passed": 0, "failed": 1, "not_checked": 2, "inconclusive": 3}


def test_an_inconclusive_suite_survives_json():
    suite = samples.inconclusive_suite()
    again = SuiteResult.from_dict(json.loads(json.dumps(suite.to_dict())))
    assert again.verdict == suite.verdict
    assert again["check_gradients_batch8"].status == "inconclusive"
    data = suite.to_dict()
    assert data["verdict"]["status"] == "inconclusive" and data["verdict"]["inconclusive"] == ["W1"]
    assert data["passed"] is False and data["failed"] == []


def test_over_several_targets_inconclusive_comes_after_failed_and_not_checked():
    one, two = samples.inconclusive_suite(), samples.passing_suite()
    many = SuiteResult(target="2 targets", targets=[one, two])
    assert many.verdict.status == "inconclusive" and many.verdict.exit_code == 3
    assert many.verdict.headline.endswith("1 passed, 0 failed, 0 could not be checked, 1 inconclusive")
    assert many.verdict.undecided == ("tiny float32 network",)
    many.targets.append(samples.failing_suite())
    assert many.verdict.status == "failed"
