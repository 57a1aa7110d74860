"""check_layer on single layers, and JSON output."""

import json

import numpy as np
import pytest

from gradcheck import InvalidArgumentError, check_layer
from gradcheck.render.json_report import write_json
from gradcheck.results.findings import JSON_FORMAT_VERSION
from reference_net.activations import Sigmoid, Softmax
from reference_net.layers import Dense


def test_dense_layer_passes():
    layer = Dense(4, 3, rng=np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(5, 4))
    before = X.copy()
    result = check_layer(layer.forward, layer.backward, X, {"W": layer.W, "b": layer.b},
                         param_grads=lambda: {"W": layer.dW, "b": layer.db})
    assert result.passed, str(result)
    assert [p.name for p in result.params] == ["input", "W", "b"]
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("layer", [Sigmoid(), Softmax()], ids=["sigmoid", "softmax"])
def test_activation_layers_pass(layer):
    X = np.random.default_rng(2).normal(size=(3, 4))
    assert check_layer(layer.forward, layer.backward, X).passed


def test_wrong_input_gradient_is_caught():
    layer = Sigmoid()

    def backward(dA):
        return dA * layer.A  # forgot the (1 - A) factor

    X = np.random.default_rng(3).normal(size=(3, 4))
    result = check_layer(layer.forward, backward, X)
    assert result.failed == ["input"]


def test_backward_returning_tuple_and_dict():
    W = np.random.default_rng(4).normal(size=(3, 2))
    X = np.random.default_rng(5).normal(size=(4, 3))
    forward = lambda X: X @ W  # noqa: E731
    as_tuple = lambda dY: (dY @ W.T, {"W": X.T @ dY})  # noqa: E731
    as_dict = lambda dY: {"input": dY @ W.T, "W": X.T @ dY}  # noqa: E731
    assert check_layer(forward, as_tuple, X, {"W": W}).passed
    assert check_layer(forward, as_dict, X, {"W": W}).passed


def test_missing_param_gradient_is_explained():
    W = np.ones((3, 2))
    with pytest.raises(InvalidArgumentError, match="param_grads"):
        check_layer(lambda X: X @ W, lambda dY: dY @ W.T, np.ones((2, 3)), {"W": W})


def test_json_is_valid_and_written_atomically(tmp_path):
    from tests.zoo.networks import BiasSummedOverAllUnits

    net = BiasSummedOverAllUnits()
    from gradcheck import check_gradients

    result = check_gradients(net.loss, net.params, net.gradients)
    path = write_json(result, tmp_path / "out" / "check.json")
    data = json.loads(path.read_text())
    assert data["format_version"] == JSON_FORMAT_VERSION
    assert data["failed"] == ["b1"]
    assert data["findings"][0]["kind"] == "reduction"
    assert [p.name for p in tmp_path.joinpath("out").iterdir()] == ["check.json"]
