"""SIGTERM and repeated SIGINT sent to a running ``gradcheck check`` on memory-mapped parameters.

The signal is sent when the target's loss announces its K-th call (K seeded at random), so it
always lands mid-check, whatever the speed of the machine and whether the test runner leaves the
child's stdout buffered. The target runs in a child of the command's, in namespaces of its own
with no file it can write and no way to reach a process outside: it announces the call by the
one thing a process outside can read, its own name in /proc (``prctl(PR_SET_NAME)``).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import pytest

from tests.system.frontends.helpers import ROOT

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")]

SHAPES = {"W1": (64, 64), "b1": (64,), "W2": (64, 10), "b2": (10,)}
#: Loss calls of the first check alone (batch 1: 4,874 entries, 4 calls each by Richardson).
CALLS = 19_000

TARGET = '''
import ctypes
import os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = {shapes!r}
MARK, MARK_AT = os.environ["MARK"].encode(), int(os.environ["MARK_AT_CALL"])
calls = 0


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
        global calls
        calls += 1
        if calls == MARK_AT:  # the moment to signal: this process's name says it
            ctypes.CDLL(None).prctl(15, ctypes.c_char_p(MARK), 0, 0, 0)  # PR_SET_NAME
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


#: The child starts as a shell starts a foreground job, whatever the test runner ignores or
#: buffers: Ctrl-C raises KeyboardInterrupt, SIGTERM ends it, stdout is a pipe's (block-buffered).
CHILD = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
         "signal.signal(signal.SIGTERM, signal.SIG_{term}); "
         "from gradcheck.frontends.cli import main; sys.exit(main())")
COMMAND = ["check", "net.py:target", "--method", "richardson", "--batch-size", "256",
           "--max-seconds", "0"]
#: What each kind of interruption sends, and the one exit status it must end with (as seen by a
#: parent in Python; a shell reports 128 + the signal number: 143 and 130).
KINDS = {"SIGTERM": ((signal.SIGTERM,), -signal.SIGTERM),
         "SIGINT x2": ((signal.SIGINT, signal.SIGINT), 130)}


@dataclass
class Run:
    kind: str
    at_call: int
    returncode: int
    changed: list[str]
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (f"{self.kind} at loss call {self.at_call}: exit status {self.returncode}, "
                f"changed {self.changed}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr[-1500:]}")


def write_target(folder) -> dict[str, bytes]:
    """The network file and its parameter files in ``folder``; returns each file's bytes."""
    rng = np.random.default_rng(16)
    for name, shape in SHAPES.items():
        rng.standard_normal(shape).tofile(folder / f"{name}.bin")
    (folder / "net.py").write_text(TARGET.format(shapes=SHAPES))
    return {name: (folder / f"{name}.bin").read_bytes() for name in SHAPES}


def _named(root: int, name: str) -> bool | None:
    """Whether a descendant of ``root`` is called ``name`` (None once ``root`` has ended)."""
    parents, names = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    text = stat.read()
            except OSError:
                continue
            parents[int(entry)] = int(text[text.rindex(b")") + 2:].split()[1])
            names[int(entry)] = text[text.index(b"(") + 1:text.rindex(b")")].decode("utf-8", "replace")
    if root not in parents:
        return None
    for pid, comm in names.items():
        ancestor = parents.get(pid)
        while comm == name and ancestor is not None:
            if ancestor == root:
                return True
            ancestor = parents.get(ancestor)
    return False


def signal_mid_check(folder, before, kind, at_call, gap=0.0, term="DFL") -> Run:
    """Run ``gradcheck check`` in ``folder``; send ``kind`` when the loss is called the
    ``at_call``-th time, with ``gap`` seconds between two signals. ``term="IGN"`` starts the
    child with SIGTERM ignored."""
    mark = f"gcmark{os.getpid() % 10000}"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(PYTHONPATH=str(ROOT), MARK=mark, MARK_AT_CALL=str(at_call))
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(term=term), *COMMAND],
                             cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while (reached := _named(child.pid, mark)) is False and child.poll() is None:
            time.sleep(0.001)  # polling /proc, not a timing assertion
        if reached:
            for i, signum in enumerate(KINDS[kind][0]):
                if i:
                    time.sleep(gap)
                child.send_signal(signum)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    changed = [n for n in SHAPES if (folder / f"{n}.bin").read_bytes() != before[n]]
    if not reached:
        err += f"\n(the check ended before loss call {at_call}: nothing was sent)"
    return Run(kind, at_call, child.returncode, changed, out, err)


def _campaign(folder, runs, seed) -> list[Run]:
    """``runs`` signalled checks at seeded random loss calls of the first check."""
    before = write_target(folder)
    chooser = random.Random(seed)
    return [signal_mid_check(folder, before, chooser.choice(sorted(KINDS)),
                             at_call=chooser.randint(1, CALLS), gap=chooser.uniform(0.0, 0.01))
            for _ in range(runs)]


def test_a_signalled_check_restores_every_file_and_ends_with_the_signals_status(tmp_path):
    for run in _campaign(tmp_path, runs=10, seed=16):
        assert run.changed == [], str(run)
        assert run.returncode == KINDS[run.kind][1], str(run)
        # the log says what was being checked, and no verdict: the check never finished
        assert run.stdout.startswith("checking net.py:target"), str(run)
        assert "PASSED" not in run.stdout and "FAILED" not in run.stdout, str(run)
        if run.kind.startswith("SIGINT"):  # Ctrl-C: one line saying what stopped, no traceback
            assert "Traceback" not in run.stderr, str(run)
            assert run.stderr.strip().splitlines()[-1].startswith(
                "gradcheck: interrupted while checking net.py:target"), str(run)
            assert "every array of the network was restored" in run.stderr, str(run)


def test_a_sigterm_the_check_was_started_ignoring_is_ignored(tmp_path):
    # A parent that starts gradcheck with SIGTERM ignored (SIG_IGN is inherited) chose so; the
    # check runs to its end and its exit status is its verdict's, the files unchanged.
    before = write_target(tmp_path)
    run = signal_mid_check(tmp_path, before, "SIGTERM", at_call=CALLS // 2, term="IGN")
    assert run.changed == [], str(run)
    assert run.returncode == 0, str(run)
    assert "PASSED: all 3 checks of net.py:target" in run.stdout, str(run)
