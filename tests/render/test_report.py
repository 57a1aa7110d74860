"""The report data model: verdict, summary sentence, JSON round trip, inputs from real results."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradcheck.errors import InvalidArgumentError
from gradcheck.report import Report, summarize
from gradcheck.results.findings import JSON_FORMAT_VERSION
from tests.render import samples

SUMMARIES = [
    ("all pass", samples.gradients([samples.param("W1", (2, 2), passed=True)]), [],
     True, "All 1 gradient match finite differences."),
    ("one wrong", samples.failing_gradients(), [], False,
     "2 of 4 gradients are wrong: b1, W2."),
    ("probe fails", None, [samples.softmax_probe()], False,
     "1 of 1 stability probe failed: naive_softmax."),
    ("both", samples.failing_gradients(), [samples.softmax_probe("s", passed=True)], False,
     "2 of 4 gradients are wrong: b1, W2; all 1 stability probe pass."),
    ("nothing", None, [], True, "Nothing was checked."),
]


@pytest.mark.parametrize("gradients, probes, passed, sentence",
                         [s[1:] for s in SUMMARIES], ids=[s[0] for s in SUMMARIES])
def test_summarize_gives_verdict_and_one_sentence(gradients, probes, passed, sentence):
    assert summarize(gradients, probes) == (passed, sentence)


def test_check_level_failure_fails_even_when_every_parameter_passes():
    grads = samples.gradients([samples.param("W1", (2, 2), passed=True)])
    grads["passed"] = False  # e.g. a nondeterministic loss
    passed, sentence = summarize(grads, [])
    assert not passed and sentence == "The gradient check failed."


def test_to_dict_is_json_safe_and_versioned():
    data = samples.failing_report().to_dict()
    assert data["format_version"] == JSON_FORMAT_VERSION and data["kind"] == "report"
    assert json.loads(json.dumps(data, allow_nan=False)) == data


def test_from_dict_round_trip_restores_every_field():
    report = samples.failing_report()
    again = Report.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report


@pytest.mark.parametrize("data, problem", [
    ({"format_version": 99, "kind": "report"}, "format_version 99"),
    ({"format_version": JSON_FORMAT_VERSION, "kind": "gradient_check"}, "kind 'gradient_check'"),
    ([], "expected a dict"),
], ids=["future_version", "wrong_kind", "not_a_dict"])
def test_from_dict_rejects_other_documents(data, problem):
    with pytest.raises(InvalidArgumentError, match=problem):
        Report.from_dict(data)


def test_build_rejects_objects_without_to_dict():
    with pytest.raises(InvalidArgumentError, match=r"probes\[0\]: got int"):
        Report.build("t", probes=[3])


def test_build_rejects_training_without_loss():
    with pytest.raises(InvalidArgumentError, match="expected 'loss' and 'step' or 'epoch'"):
        Report.build("t", training={"run": {"step": [1, 2]}})


def test_build_takes_real_results_and_history():
    from gradcheck import check_gradients
    from gradcheck.probes import probe_softmax
    from reference_net.training import History

    W = np.array([[1.0, -2.0], [0.5, 3.0]])
    params = {"W": W}
    result = check_gradients(lambda: float(np.sum(W ** 2)), params, {"W": 3 * W})  # wrong: 2W
    probe = probe_softmax(lambda Z: np.exp(Z) / np.exp(Z).sum(axis=-1, keepdims=True))
    history = History(batch_size=None, step=[1, 2], epoch=[1, 2], loss=[1.0, 0.5],
                      train_accuracy=[0.5, 0.75], val_accuracy=[float("nan"), 0.5])
    report = Report.build("toy", gradients=result, probes=[probe], training={"full batch": history})
    assert not report.passed
    assert report.gradients == result.to_dict()
    assert report.probes == [probe.to_dict()]
    assert report.training["full batch"]["train_acc"] == [0.5, 0.75]
    assert report.training["full batch"]["val_acc"] == [None, 0.5]  # NaN is JSON-safe None
