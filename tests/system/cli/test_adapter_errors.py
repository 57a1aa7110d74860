"""An adapter or protocol error is "could not check" in every command, probes included: exit 2
and one message, never a FAIL of the network."""

from __future__ import annotations

import textwrap

import pytest

from gradcheck.frontends.cli import main

BACKWARD_ONLY = """
import numpy as np
from tests.corpus.networks import batch
from tests.corpus.book_program import book_backward_only

X, y = batch(16, 0)
target = book_backward_only(0, np.float64, X, y)
"""

#: A target whose adapter gives up on batches of 64 only: the error meets one probe mid-run.
LATE_ADAPTER_ERROR = """
import numpy as np
from gradcheck import ProtocolError
from gradcheck.adapters import functional

rng = np.random.default_rng(0)
params = {"W": rng.normal(size=(4, 3)), "b": np.zeros(3)}


def output(p, X):
    Z = X @ p["W"] + p["b"]
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def gradients(p, X, y):
    if len(X) == 64:
        raise ProtocolError("the adapter cannot handle a batch of 64")
    dZ = output(p, X)
    dZ[np.arange(len(y)), y] -= 1
    dZ /= len(y)
    return X.T @ dZ, dZ.sum(axis=0)


target = functional(params, output=output, gradients=gradients)
"""


@pytest.mark.parametrize("command", ["check", "probe"])
def test_a_loss_object_with_only_a_backward_cannot_be_checked_by_any_command(command, tmp_path,
                                                                           capsys, monkeypatch):
    from tests.system.frontends.helpers import ROOT

    monkeypatch.syspath_prepend(str(ROOT))
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent(BACKWARD_ONLY), encoding="utf-8")
    code = main([command, f"{path}:target"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "FAIL" not in out
    assert err.count("has a backward but no way to compute the loss") == 1


def test_an_adapter_error_in_one_probe_is_could_not_check_not_a_failure(tmp_path, capsys):
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent(LATE_ADAPTER_ERROR), encoding="utf-8")
    code = main(["probe", f"{path}:target"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "FAIL " not in out and "ERROR check_shapes_any_batch_size" in out
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("COULD NOT CHECK:") and "cannot handle a batch of 64" in last
