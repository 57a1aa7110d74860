"""SIGTERM and repeated SIGINT sent to a running ``gradcheck check`` on memory-mapped parameters."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.frontends.helpers import ROOT

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")]

SHAPES = {"W1": (64, 64), "b1": (64,), "W2": (64, 10), "b2": (10,)}

TARGET = '''
import os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = {shapes!r}


class Net:
    layout = "rows"

    def __init__(self):
        self.params = {{n: np.memmap(os.path.join(HERE, n + ".bin"), dtype=np.float64, mode="r+",
                                     shape=s) for n, s in SHAPES.items()}}

    def _forward(self, X):
        H = np.tanh(X @ self.params["W1"] + self.params["b1"])
        Z = H @ self.params["W2"] + self.params["b2"]
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return H, E / E.sum(axis=1, keepdims=True)

    def loss(self, X, y):
        _, P = self._forward(X)
        return float(-np.mean(np.log(P[np.arange(len(y)), y])))

    def gradients(self, X, y):
        H, P = self._forward(X)
        dZ = P.copy()
        dZ[np.arange(len(y)), y] -= 1
        dZ /= len(y)
        dH = dZ @ np.asarray(self.params["W2"]).T * (1 - H ** 2)
        return {{"W1": X.T @ dH, "b1": dH.sum(axis=0), "W2": H.T @ dZ, "b2": dZ.sum(axis=0)}}


target = Net()
'''


def _campaign(folder, runs, seed):
    rng = np.random.default_rng(seed)
    for name, shape in SHAPES.items():
        rng.standard_normal(shape).tofile(folder / f"{name}.bin")
    (folder / "net.py").write_text(TARGET.format(shapes=SHAPES))
    before = {name: (folder / f"{name}.bin").read_bytes() for name in SHAPES}
    chooser = random.Random(seed)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    results = []
    for _ in range(runs):
        kind = chooser.choice(["SIGTERM", "SIGINT x2"])
        child = subprocess.Popen(
            [sys.executable, "-c", "import signal, sys; signal.signal(signal.SIGINT, "
             "signal.default_int_handler); from gradcheck.cli import main; sys.exit(main())",
             "check", "net.py:target", "--method", "richardson", "--batch-size", "256",
             "--max-seconds", "0"],
            cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out = child.stdout.readline()  # "checking ...": the target is loaded, the check starts
        time.sleep(chooser.uniform(0.0, 0.5))
        if kind == "SIGTERM":
            child.send_signal(signal.SIGTERM)
        else:
            child.send_signal(signal.SIGINT)
            time.sleep(chooser.uniform(0.0, 0.01))
            child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=120)
        changed = [n for n in SHAPES if (folder / f"{n}.bin").read_bytes() != before[n]]
        results.append((kind, child.returncode, changed, out + err[-1500:]))
    return results


def test_signals_to_a_running_check_leave_every_parameter_file_unchanged(tmp_path):
    results = _campaign(tmp_path, runs=10, seed=16)
    for kind, code, changed, output in results:
        assert changed == [], (kind, code, output)
    passed = [(kind, output) for kind, code, _, output in results if code == 0]
    if passed:
        # Seen only when the suite runs under tox (1 and 8 runs of 10 in two runs), never outside
        # it: the files are still unchanged (asserted above); the exit status is the open part,
        # recorded here rather than hidden (README, "Not built yet").
        pytest.xfail(f"a signalled run exited 0: {passed}")
