"""The results model a page is rendered from: training curves, the JSON round trip, versions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradcheck.errors import InvalidArgumentError
from gradcheck.results import SuiteResult
from gradcheck.results.findings import JSON_FORMAT_VERSION
from gradcheck.results.model import training_curves
from tests.render import samples


def test_to_dict_is_json_safe_and_versioned():
    data = samples.failing_suite().to_dict()
    assert data["format_version"] == JSON_FORMAT_VERSION and data["kind"] == "suite"
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["verdict"]["status"] == "failed" and data["verdict"]["exit_code"] == 1


def test_from_dict_round_trip_restores_every_field():
    suite = samples.failing_suite()
    again = SuiteResult.from_dict(json.loads(json.dumps(suite.to_dict())))
    assert again.to_dict() == suite.to_dict()
    assert again.verdict == suite.verdict


@pytest.mark.parametrize("data, problem", [
    ({"format_version": 99, "kind": "suite"}, "format_version 99"),
    ({"format_version": JSON_FORMAT_VERSION, "kind": "gradient_check"}, "kind 'gradient_check'"),
    ([], "expected a dict"),
    ({"format_version": JSON_FORMAT_VERSION, "kind": "suite", "target": "t", "checks": [{"name": "x"}]},
     "not a suite document"),
], ids=["future_version", "wrong_kind", "not_a_dict", "damaged"])
def test_from_dict_rejects_other_documents(data, problem):
    with pytest.raises(InvalidArgumentError, match=problem):
        SuiteResult.from_dict(data)


def test_training_curves_reject_runs_without_a_loss():
    with pytest.raises(InvalidArgumentError, match="expected 'loss' and 'step' or 'epoch'"):
        training_curves({"run": {"step": [1, 2]}})
    with pytest.raises(InvalidArgumentError, match=r"training\['run'\]: got int"):
        training_curves({"run": 3})


def test_training_curves_take_a_history():
    from reference_net.training import History

    history = History(batch_size=None, step=[1, 2], epoch=[1, 2], loss=[1.0, 0.5],
                      train_accuracy=[0.5, 0.75], val_accuracy=[float("nan"), 0.5])
    curves = training_curves({"full batch": history})
    assert curves["full batch"]["train_acc"] == [0.5, 0.75]
    assert curves["full batch"]["val_acc"] == [None, 0.5]  # NaN is JSON-safe None
    assert np.isfinite(curves["full batch"]["loss"]).all()
