"""Parameters come back bit for bit, whatever the user's code does."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradcheck import UserCodeError, check_gradients
from tests.zoo.networks import Correct


class RaisesAtCall:
    def __init__(self, net, at, exc):
        self.net, self.at, self.exc, self.calls = net, at, exc, 0

    def __call__(self):
        self.calls += 1
        if self.calls == self.at:
            raise self.exc
        return self.net.loss()


def _bits(params):
    return {name: arr.tobytes() for name, arr in params.items()}


@given(at=st.integers(1, 400), mode=st.sampled_from(["full", "sample", "directional"]))
def test_restored_when_loss_raises_at_any_call(at, mode):
    net = Correct()
    net.params["b1"][0] = -0.0  # sign of zero must survive too
    before = _bits(net.params)
    loss = RaisesAtCall(net, at, ValueError("boom"))
    try:
        check_gradients(loss, net.params, net.gradients(), mode=mode)
    except UserCodeError as err:
        assert "boom" in str(err) and "restored" in str(err)
        assert isinstance(err.__cause__, ValueError)
    assert _bits(net.params) == before


def test_restored_on_keyboard_interrupt():
    net = Correct()
    before = _bits(net.params)
    with pytest.raises(KeyboardInterrupt):
        check_gradients(RaisesAtCall(net, 50, KeyboardInterrupt()), net.params, net.gradients())
    assert _bits(net.params) == before


def test_user_error_names_the_entry():
    net = Correct()
    with pytest.raises(UserCodeError, match=r"call 7, while perturbing W1\[0, 2\]"):
        check_gradients(RaisesAtCall(net, 7, RuntimeError("x")), net.params, net.gradients())


def test_non_contiguous_and_shared_memory_params():
    rng = np.random.default_rng(0)
    buffer = rng.normal(size=(6, 8))
    W = buffer[:, ::2]  # non-contiguous view
    w_also = buffer[0, :]  # overlaps W's first row
    X = rng.normal(size=(3, 6))
    loss = lambda: float(np.sum(np.tanh(X @ W)) + np.sum(w_also**2))  # noqa: E731
    before = buffer.tobytes()

    def grads():
        g_w = X.T @ (1 - np.tanh(X @ W) ** 2)
        g_shared = 2 * w_also.copy()
        return {"W": g_w, "w_also": g_shared}

    result = check_gradients(loss, {"W": W, "w_also": w_also}, grads)
    assert buffer.tobytes() == before
    # W's gradient ignores the shared entries' second path, so W may fail; what matters is
    # that the check ran on a non-contiguous view and restored the shared buffer exactly.
    assert result["W"].n_checked == W.size
