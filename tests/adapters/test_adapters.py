"""Each adapter against its correct and buggy example: verdict and diagnosis."""

from pathlib import Path

import numpy as np
import pytest

from gradcheck import InvalidArgumentError, ProtocolError, adapters
from gradcheck.engine import check_target_gradients
from gradcheck.targets.batches import synthetic_batch
from gradcheck.targets.loading import load_object
from gradcheck.targets.protocol import as_target

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

CASES = [
    ("blog_fixed", "columns", {}),
    ("blog_buggy", "columns", {"b1": "reduction", "b2": "reduction"}),
    ("layer_objects_correct", "rows", {}),
    ("layer_objects_buggy", "rows", {"W1": "scale", "b1": "scale", "W2": "scale", "b2": "scale"}),
    ("cache_pairs_correct", "rows", {}),
    ("cache_pairs_buggy", "rows", {"W1": "shape", "W2": "shape"}),
    ("per_sample_correct", "columns", {}),
    ("per_sample_buggy", "columns", {"W1": "sign", "b1": "sign", "W2": "sign", "b2": "sign"}),
]


@pytest.mark.parametrize(("example", "layout", "expected"), CASES, ids=[c[0] for c in CASES])
def test_example(example, layout, expected):
    target = as_target(load_object(f"{EXAMPLES / example}.py:target"))
    before = {name: arr.copy() for name, arr in target.params.items()}
    X, y, detected = synthetic_batch(target, 16, seed=0)
    assert detected == layout
    result = check_target_gradients(target, X, y)
    assert sorted(result.failed) == sorted(expected), str(result)
    for name, kind in expected.items():
        assert result[name].findings[0].kind == kind, str(result)
    for name, arr in target.params.items():
        np.testing.assert_array_equal(arr, before[name])


def test_missing_one_over_m_is_named_in_layer_objects_example():
    target = as_target(load_object(f"{EXAMPLES / 'layer_objects_buggy'}.py:target"))
    X, y, _ = synthetic_batch(target, 16, seed=0)
    finding = check_target_gradients(target, X, y)["W2"].findings[0]
    assert "missing 1/m" in finding.message and finding.data["factor"] == pytest.approx(16)


@pytest.mark.parametrize(("make", "error", "words"), [
    (lambda: adapters.functional({"W": np.ones((2, 2))}, gradients=lambda p, X, y: ()), InvalidArgumentError,
     "neither loss nor output"),
    (lambda: adapters.functional({"W": np.ones((2, 2))}, gradients=None, loss=lambda p, X, y: 0.0),
     InvalidArgumentError, "gradients"),
    (lambda: adapters.functional({"W": np.ones((2, 2))}, gradients=lambda p, X, y: (), output=abs,
                                 layout="diagonal"), InvalidArgumentError, "layout"),
    (lambda: adapters.layer_objects([], object()), InvalidArgumentError, "layers"),
    (lambda: adapters.layer_objects([object()], object()), InvalidArgumentError, "forward/backward"),
    (lambda: adapters.cache_model(object()), InvalidArgumentError, "params"),
    (lambda: adapters.per_sample(object()), InvalidArgumentError, "weights"),
], ids=["functional-no-loss", "functional-no-grads", "functional-layout", "layers-empty",
        "layers-not-layers", "cache-no-params", "per-sample-not-nielsen"])
def test_adapter_bad_input(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_functional_wrong_gradient_count_is_a_protocol_error():
    W = np.ones((3, 2))
    target = adapters.functional({"W": W, "b": np.zeros(2)}, output=lambda p, X: X @ p["W"],
                                 gradients=lambda p, X, y: (np.zeros((3, 2)),))
    with pytest.raises(ProtocolError, match="returned 1 values for 2 parameters"):
        target.gradients(np.ones((4, 3)), np.zeros(4, dtype=int))
