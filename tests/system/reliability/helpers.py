"""Shared pieces of the reliability tests: small networks, a fake clock, bit snapshots."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from dataclasses import dataclass
from unittest import mock

import numpy as np

from gradcheck.frontends import cli

TARGET_SOURCE = '''
import numpy as np


class Net:
    """Softmax regression, rows are examples: enough of a network to load and check."""

    layout = "rows"

    def __init__(self, dtype=np.float64):
        rng = np.random.default_rng(0)
        self.params = {"W": rng.normal(size=(4, 3)).astype(dtype), "b": np.zeros(3, dtype=dtype)}

    def _probabilities(self, X):
        Z = X @ self.params["W"] + self.params["b"]
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)

    def loss(self, X, y):
        P = self._probabilities(X)
        return float(-np.mean(np.log(P[np.arange(len(y)), y])))

    def gradients(self, X, y):
        dZ = self._probabilities(X)
        dZ[np.arange(len(y)), y] -= 1
        dZ /= len(y)
        return {"W": X.T @ dZ, "b": dZ.sum(axis=0)}
'''


def write_target(directory, body: str, name: str = "net.py") -> str:
    """Write TARGET_SOURCE plus ``body`` to ``directory/name``; return the file's path."""
    path = directory / name
    path.write_text(TARGET_SOURCE + "\n" + body + "\n", encoding="utf-8")
    return str(path)


@dataclass
class CliOutcome:
    code: int
    stdout: str
    stderr: str


@dataclass
class PytestOutcome:
    """What ``pytest`` printed and returned when run on a target in a fresh process."""

    code: int
    output: str


def run_pytest(directory, argv: list[str]) -> PytestOutcome:
    """``python -m pytest -q *argv`` in ``directory`` (a fresh process: the plugin as users get it)."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *argv],
                          cwd=directory, capture_output=True, text=True, timeout=600)
    return PytestOutcome(done.returncode, done.stdout + done.stderr)


def run_cli(argv: list[str]) -> CliOutcome:
    """gradcheck.frontends.cli.main(argv) with its output captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return CliOutcome(code, out.getvalue(), err.getvalue())


class SteppingClock:
    """Stands in for time.perf_counter: each reading is ``step`` seconds after the previous one.

    A timed loss call reads the clock twice, so every call appears to take exactly ``step``
    seconds, whatever the machine's speed.
    """

    def __init__(self, step: float):
        self.step, self.now = step, 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def with_clock(step: float, call):
    """Run ``call()`` with every timed loss evaluation taking ``step`` seconds."""
    with mock.patch("gradcheck.checks.evaluation.perf_counter", SteppingClock(step)):
        return call()


def bits(arrays: dict) -> dict:
    """Every array's exact bytes (and dtype, shape, strides): equal means bit-for-bit unchanged."""
    return {name: (arr.tobytes(), arr.dtype.str, arr.shape, arr.strides) for name, arr in arrays.items()}


def quadratic_problem(seed: int = 0, shape=(2, 3)):
    """L(W, b) = sum(tanh(W)^2) + sum(b^3), its params and its true gradients (a function)."""
    rng = np.random.default_rng(seed)
    params = {"W": rng.normal(size=shape), "b": rng.normal(size=shape[-1])}

    def loss():
        return float(np.sum(np.tanh(params["W"]) ** 2) + np.sum(params["b"] ** 3))

    def grads():
        t = np.tanh(params["W"])
        return {"W": 2 * t * (1 - t**2), "b": 3 * params["b"] ** 2}

    return loss, params, grads
