"""Fault injection: a check on memory-mapped parameter files, interrupted by real signals.

The child process maps its parameters from ``.npy``-free raw files (``np.memmap``, mode r+),
so anything it leaves perturbed is visible in the files after it dies. It prints ``ready``
right before checking, then checks in a loop until a signal ends it.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SHAPES = {"W1": (12, 24), "b1": (24,), "W2": (24, 6), "b2": (6,)}

CHILD = r'''
import signal
import sys
import numpy as np
import gradcheck

# as when started from a shell: a test runner's worker may be ignoring SIGINT, and children inherit it
signal.signal(signal.SIGINT, signal.default_int_handler)

folder, shapes = sys.argv[1], eval(sys.argv[2])
P = {name: np.memmap(f"{folder}/{name}.bin", dtype=np.float64, mode="r+", shape=shape)
     for name, shape in shapes.items()}
rng = np.random.default_rng(1)
X = rng.standard_normal((16, shapes["W1"][0]))
y = rng.integers(0, shapes["W2"][1], size=16)


def forward():
    H = np.tanh(X @ P["W1"] + P["b1"])
    Z = H @ P["W2"] + P["b2"]
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return H, E / E.sum(axis=1, keepdims=True)


def loss():
    _, prob = forward()
    return float(-np.mean(np.log(prob[np.arange(len(y)), y])))


def grads():
    H, prob = forward()
    dZ = prob.copy()
    dZ[np.arange(len(y)), y] -= 1
    dZ /= len(y)
    dH = dZ @ np.asarray(P["W2"]).T * (1 - H ** 2)
    return {"W1": X.T @ dH, "b1": dH.sum(axis=0), "W2": H.T @ dZ, "b2": dZ.sum(axis=0)}


print("ready", flush=True)
while True:
    result = gradcheck.check_gradients(loss, P, grads, mode="full", seed=0)
    if not result.passed:
        print("FAILED", result.params, flush=True)
        sys.exit(3)
'''

#: What each scenario sends after the random delay, and the exit statuses it may end with.
SCENARIOS = {
    "sigterm": ((signal.SIGTERM,), {-signal.SIGTERM}),
    "sigint_burst": ((signal.SIGINT,) * 4, {-signal.SIGINT}),
    "sigint_then_sigterm": ((signal.SIGINT, signal.SIGTERM), {-signal.SIGINT, -signal.SIGTERM}),
    "sigterm_then_sigint": ((signal.SIGTERM, signal.SIGINT, signal.SIGINT), {-signal.SIGTERM}),
}


def write_parameters(folder: Path, seed: int = 0) -> dict[str, bytes]:
    """Random float64 parameter files in ``folder``; returns each file's bytes."""
    rng = np.random.default_rng(seed)
    contents = {}
    for name, shape in SHAPES.items():
        data = rng.standard_normal(shape) * 0.5
        (folder / f"{name}.bin").write_bytes(data.tobytes())
        contents[name] = data.tobytes()
    return contents


@dataclass
class Outcome:
    scenario: str
    returncode: int
    stderr: str
    changed: list[str]


def interrupt_once(folder: Path, originals: dict[str, bytes], rnd: random.Random) -> Outcome:
    """Start a child, wait for ``ready``, send a scenario's signals at random moments."""
    scenario = rnd.choice(sorted(SCENARIOS))
    signals, _ = SCENARIOS[scenario]
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), repr(SHAPES)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        if line.strip() != "ready":
            child.kill()
            _, err = child.communicate()
            raise AssertionError(f"the child did not start: {line!r} {err}")
        time.sleep(rnd.uniform(0.0, 0.15))  # a random moment mid-check, not an assertion
        for signum in signals:
            if child.poll() is not None:
                break
            child.send_signal(signum)
            time.sleep(rnd.uniform(0.0, 0.004))
        _, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    changed = [name for name, data in originals.items()
               if (folder / f"{name}.bin").read_bytes() != data]
    return Outcome(scenario, child.returncode, err, changed)


def run_campaign(folder: Path, runs: int, seed: int) -> list[Outcome]:
    originals = write_parameters(folder)
    rnd = random.Random(seed)
    return [interrupt_once(folder, originals, rnd) for _ in range(runs)]
