"""A folder of generated submissions, one per way a student's network can go wrong.

Each file defines ``build()`` returning a two-layer network with ``params``, ``loss(X, y)``
and ``gradients(X, y)``; :func:`check_submission` is the per-target job the isolation tests
run in worker processes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

NETWORK = '''
import numpy as np


class Net:
    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.params = {{"W1": rng.standard_normal((4, 5)) * 0.5, "b1": np.zeros(5),
                       "W2": rng.standard_normal((5, 3)) * 0.5, "b2": np.zeros(3)}}

    def _forward(self, X):
        H = np.tanh(X @ self.params["W1"] + self.params["b1"])
        Z = H @ self.params["W2"] + self.params["b2"]
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return H, E / E.sum(axis=1, keepdims=True)

    def loss(self, X, y):
        {loss_hook}
        _, P = self._forward(X)
        return float(-np.mean(np.log(P[np.arange(len(y)), y])))

    def gradients(self, X, y):
        {gradients_hook}
        H, P = self._forward(X)
        dZ = P.copy()
        dZ[np.arange(len(y)), y] -= 1
        dZ /= len(y)
        dH = dZ @ self.params["W2"].T * (1 - H ** 2)
        return {{"W1": X.T @ dH * {scale}, "b1": dH.sum(axis=0), "W2": H.T @ dZ, "b2": dZ.sum(axis=0)}}


def build():
    {build_hook}
    return Net({seed})
'''

#: kind -> (hooks, the outcome status expected, a word the outcome's message or result shows)
KINDS = {
    "correct": ({}, "ok", True),
    "buggy": ({"scale": "2.0"}, "ok", False),
    "infinite_loop": ({"gradients_hook": "while True: pass"}, "timeout", None),
    "os_exit": ({"loss_hook": "import os; os._exit(3)"}, "exited", None),
    "segfault": ({"loss_hook": "import ctypes; ctypes.string_at(0)"}, "crashed", None),
    "sys_exit_in_loss": ({"loss_hook": "import sys; sys.exit(0)"}, "error", None),
    "sys_exit_at_import": ({"prelude": "import sys; sys.exit('bye')"}, "error", None),
    "sys_exit_in_factory": ({"build_hook": "import sys; sys.exit(0)"}, "error", None),
    "large_allocation": ({"loss_hook": "np.ones(20 * 1024 ** 3 // 8)"}, "memory", None),
    "raises": ({"gradients_hook": "raise ValueError('shapes do not align')"}, "ok", False),
}


def write_submission(folder: Path, name: str, kind: str, seed: int = 0) -> str:
    hooks = {"loss_hook": "pass", "gradients_hook": "pass", "build_hook": "pass", "scale": "1.0",
             "seed": seed, **KINDS[kind][0]}
    prelude = hooks.pop("prelude", "")
    path = folder / f"{name}.py"
    path.write_text(prelude + "\n" + NETWORK.format(**hooks), encoding="utf-8")
    return f"{path}:build"


def write_folder(folder: Path, count: int) -> list[tuple[str, str]]:
    """``count`` submissions cycling through every kind: a list of (target, kind)."""
    kinds = sorted(KINDS)
    folder.mkdir(parents=True, exist_ok=True)
    return [(write_submission(folder, f"student_{i:03d}_{kinds[i % len(kinds)]}", kinds[i % len(kinds)], i),
             kinds[i % len(kinds)]) for i in range(count)]


def check_submission(target: str) -> dict:
    """Load ``path.py:build``, build the network, check its gradients on a fixed batch."""
    import gradcheck
    from gradcheck.targets.loading import load_object, no_exit

    factory = load_object(target)
    with no_exit(f"in the factory {target}()"):
        net = factory()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 4))
    y = rng.integers(0, 3, size=6)
    result = gradcheck.check_gradients(lambda: net.loss(X, y), net.params,
                                       lambda: net.gradients(X, y), mode="full", seed=0)
    return {"passed": bool(result.passed), "wrong": [p.name for p in result.params if not p.passed]}
