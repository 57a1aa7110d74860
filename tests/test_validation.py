"""Bad inputs to check_gradients: each error names the argument and says what to do."""

import numpy as np
import pytest

from gradcheck import InvalidArgumentError, check_gradients

W = np.ones((2, 3))
LOSS = lambda: float(np.sum(W**2))  # noqa: E731
GRADS = {"W": 2 * W}
read_only = np.ones((2, 3))
read_only.setflags(write=False)


@pytest.mark.parametrize(("kwargs", "argument", "words"), [
    (dict(loss=3.0), "loss", "zero-argument function"),
    (dict(params=[W]), "params", "mapping"),
    (dict(params={}), "params", "empty"),
    (dict(params={"W": W.astype(int)}), "params['W']", "dtype int"),
    (dict(params={"W": W.astype(object)}), "params['W']", "dtype object"),
    (dict(params={"W": [[1.0]]}), "params['W']", "NumPy array"),
    (dict(params={"W": np.ones((0, 3))}), "params['W']", "empty"),
    (dict(params={"W": read_only}), "params['W']", "read-only"),
    (dict(params={"W": np.array([np.nan, 1.0])}), "params['W']", "NaN"),
    (dict(grads={}), "grads", "no gradient for \\['W'\\]"),
    (dict(grads={"W": 2 * W, "V": W}), "grads", "unknown parameters \\['V'\\]"),
    (dict(grads={"W": "x"}), "grads['W']", "str"),
    (dict(grads=[2 * W]), "grads", "mapping"),
    (dict(mode="fast"), "mode", "'fast'"),
    (dict(method="forward"), "method", "'forward'"),
    (dict(eps=-1.0), "eps", "positive"),
    (dict(samples=0), "samples", "positive integer"),
    (dict(seed="a"), "seed", "integer"),
    (dict(loss=lambda: np.ones(3)), "loss", "array of shape \\(3,\\)"),
    (dict(loss=lambda: None), "loss", "NoneType"),
    (dict(loss=lambda: "0.5"), "loss", "str"),
    (dict(loss=lambda: (1.0, {})), "loss", "tuple of length 2"),
    (dict(loss=lambda: float("nan")), "loss", "nan"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_input(kwargs, argument, words):
    call = dict(loss=LOSS, params={"W": W}, grads=GRADS)
    call.update(kwargs)
    before = W.copy()
    with pytest.raises(InvalidArgumentError, match=words) as info:
        check_gradients(call.pop("loss"), call.pop("params"), call.pop("grads"), **call)
    assert info.value.argument == argument
    assert str(info.value).startswith(argument)
    np.testing.assert_array_equal(W, before)


def test_invalid_argument_is_both_type_and_value_error():
    with pytest.raises(TypeError):
        check_gradients(LOSS, [W], GRADS)
    with pytest.raises(ValueError):
        check_gradients(LOSS, {"W": W}, GRADS, mode="x")


def test_zero_dimensional_param_is_checked():
    x = np.array(1.5)
    result = check_gradients(lambda: float(x**3), {"x": x}, {"x": 3 * x**2})
    assert result.passed and result["x"].shape == ()
