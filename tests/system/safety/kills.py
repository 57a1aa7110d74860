"""SIGKILL at a random moment of a check on memory-mapped parameter files: nothing can restore.

Each scenario checks a network whose parameters are ``np.memmap`` files opened ``r+``, kills
something at the moment the loss announces its K-th call (K drawn at random), and compares
every file with its original bytes:

- ``check``: the Python API (``gradcheck.check_gradients`` in the user's own process), the
  process killed;
- ``parent``: ``gradcheck check net.py:target``, the command's process killed;
- ``target``: the same command, the target's own process killed (the command goes on and says
  the target could not be checked);
- ``worker``: ``gradcheck check`` of two targets, the worker process checking the mapped one
  killed (the other target's verdict still comes);
- ``timeout``: the same command with ``--timeout``, the loss stopping for good at call K.

The loss announces call K by naming its process (``prctl(PR_SET_NAME)``), the one thing a
process in namespaces of its own can show outside; :func:`wait_for_name` polls /proc for it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.system.frontends.helpers import ROOT
from tests.system.safety.submissions import write_submission

SHAPES = {"W1": (32, 24), "b1": (24,), "W2": (24, 6), "b2": (6,)}
#: Loss calls of the first gradient check of the command line (batch of one: 934 entries, 2 calls each).
CALLS = 1800

NETWORK = '''
import ctypes
import os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = {shapes!r}
MARK, MARK_AT = os.environ["MARK"].encode(), int(os.environ["MARK_AT_CALL"])
STALL = os.environ.get("STALL") == "1"
calls = 0


class Net:
    layout = "rows"

    def __init__(self):
        self.params = {{n: np.memmap(os.path.join(HERE, n + ".bin"), dtype=np.float64, mode="r+", shape=s)
                       for n, s in SHAPES.items()}}

    def _forward(self, X):
        H = np.tanh(X @ self.params["W1"] + self.params["b1"])
        Z = H @ self.params["W2"] + self.params["b2"]
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return H, E / E.sum(axis=1, keepdims=True)

    def loss(self, X, y):
        global calls
        calls += 1
        if calls == MARK_AT:  # the moment: this process's name says it
            ctypes.CDLL(None).prctl(15, ctypes.c_char_p(MARK), 0, 0, 0)
            while STALL:
                pass
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

#: The Python API's run: the network above, checked in a loop in this very process.
API = '''
import gradcheck, numpy as np, sys
sys.path.insert(0, sys.argv[1])
from net import target
rng = np.random.default_rng(0)
X, y = rng.standard_normal((8, 32)), rng.integers(0, 6, size=8)
while True:
    gradcheck.check_gradients(lambda: target.loss(X, y), target.params, lambda: target.gradients(X, y))
'''

SCENARIOS = ("check", "parent", "target", "worker", "timeout")


def write_network(folder: Path, seed: int = 0) -> dict[str, bytes]:
    """``net.py`` and its parameter files in ``folder``; returns each file's bytes."""
    rng = np.random.default_rng(seed)
    for name, shape in SHAPES.items():
        (rng.standard_normal(shape) * 0.5).tofile(folder / f"{name}.bin")
    (folder / "net.py").write_text(NETWORK.format(shapes=SHAPES))
    write_submission(folder, "other", "correct")
    return {name: (folder / f"{name}.bin").read_bytes() for name in SHAPES}


def _table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, name) of every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    text = stat.read()
            except OSError:
                continue
            table[int(entry)] = (int(text[text.rindex(b")") + 2:].split()[1]),
                                 text[text.index(b"(") + 1:text.rindex(b")")].decode("utf-8", "replace"))
    return table


def wait_for_name(root: subprocess.Popen, name: str) -> list[int] | None:
    """The chain of pids from ``root`` down to the first descendant called ``name`` (polled), or
    None when ``root`` ends first."""
    while root.poll() is None:
        table = _table()
        for pid, (_, comm) in table.items():
            if pid == root.pid and comm == name:
                return [pid]
            chain, ancestor = [pid], table[pid][0]
            while comm == name and ancestor in table:
                chain.append(ancestor)
                if ancestor == root.pid:
                    return chain[::-1]
                ancestor = table[ancestor][0]
        time.sleep(0.001)  # polling /proc, not a timing assertion
    return None


def _dead(pid: int) -> bool:
    """Whether ``pid`` has ended and only waits to be reaped (a zombie: no memory, no code running);
    an orphan's is reaped by the machine's first process, on its own schedule."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read()
    except OSError:
        return True
    return text[text.rindex(b")") + 2:].split()[0] in (b"Z", b"X")


def left_running(name: str, within: float = 10.0) -> list[int]:
    """The pids of processes called ``name`` still there ``within`` seconds from now: a process
    whose parent was killed gets its own SIGKILL from the kernel, delivered a moment later."""
    deadline = time.monotonic() + within
    while True:
        left = [pid for pid, (_, comm) in _table().items() if comm == name and not _dead(pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.01)  # polling /proc, not a timing assertion


@dataclass
class Killed:
    scenario: str
    at_call: int
    reached: bool
    returncode: int
    changed: list[str]
    left_running: list[int]
    output: str

    def __str__(self) -> str:
        return (f"{self.scenario} at call {self.at_call} (reached: {self.reached}): exit {self.returncode}, "
                f"changed {self.changed}, left running {self.left_running}\n{self.output[-1500:]}")


def kill_once(folder: Path, originals: dict[str, bytes], scenario: str, at_call: int) -> Killed:
    """One run of ``scenario``, killed at loss call ``at_call``."""
    mark = f"gck{os.getpid() % 100000}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MARK": mark, "MARK_AT_CALL": str(at_call),
           "STALL": "1" if scenario == "timeout" else "0"}
    if scenario == "check":
        command = [sys.executable, "-c", API, str(folder)]
    else:
        targets = ["net.py:target", "other.py:build"] if scenario == "worker" else ["net.py:target"]
        command = [sys.executable, "-m", "gradcheck", "check", *targets, "--max-seconds", "0"]
        if scenario == "worker":
            command += ["--workers", "2"]
        if scenario == "timeout":
            command += ["--timeout", "3"]
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        chain = wait_for_name(process, mark)
        if chain is not None:
            victim = {"check": chain[0], "parent": chain[0], "target": chain[-1],
                      "worker": chain[1] if len(chain) > 1 else chain[0], "timeout": None}[scenario]
            if victim is not None:
                os.kill(victim, signal.SIGKILL)
        out, _ = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    left = left_running(mark)
    changed = [n for n in SHAPES if (folder / f"{n}.bin").read_bytes() != originals[n]]
    return Killed(scenario, at_call, chain is not None, process.returncode, changed, left, out)


def kill_campaign(folder: Path, runs: int, seed: int, scenarios=SCENARIOS) -> list[Killed]:
    """``runs`` killed checks, cycling through ``scenarios``, at seeded random loss calls."""
    originals = write_network(folder)
    chooser = random.Random(seed)
    return [kill_once(folder, originals, scenarios[i % len(scenarios)], chooser.randint(2, CALLS))
            for i in range(runs)]
