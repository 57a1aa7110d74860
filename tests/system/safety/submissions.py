"""A folder of generated submissions, one per way a student's network can go wrong or attack.

Each file defines ``build()`` returning a two-layer network with ``params``, ``loss(X, y)`` and
``gradients(X, y)``. :data:`KINDS` are the ways a network breaks by accident (a loop, a crash, a
huge allocation); :data:`HOSTILE` the ways a submission attacks the grader (forging its verdict,
escaping its limits, writing files, breaking the wire). Each kind says the verdict its row must
show and words its reason must contain.
"""

from __future__ import annotations

from pathlib import Path

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

#: kind -> (hooks, the worker status expected, whether the network passes when checked)
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

#: Code an attack runs once, from the first call of ``loss`` (``ATTACK`` in a hook).
ONCE = '''
import os, signal, stat, struct, sys

_attacked = []


def _our_socket():
    for name in os.listdir("/proc/self/fd"):
        try:
            if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                return int(name)
        except OSError:
            pass


def _once():
    if _attacked:
        return False
    _attacked.append(1)
    return True


def _detach(body):
    """Run ``body`` in a grandchild in a session of its own, as a daemon would."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            try:
                body()
            finally:
                os._exit(0)
        os._exit(0)
    os.wait()


def _spin():
    while True:
        pass


def _named(name):
    import ctypes
    ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name.encode()), 0, 0, 0)
'''

#: The name a process a hostile submission detaches takes, so a test can look for it afterwards.
STRAY = "gcstray"

#: kind -> (prelude run at import, code run at the first loss call, the verdict its row must show,
#: words its reason must contain). The network itself is correct unless ``scale`` is in the prelude
#: dict, so a row that passes shows the attack changed nothing.
HOSTILE = {
    # the wire: a forged message breaks only its own target
    "writes_a_pickle_on_its_socket": (
        "", "import pickle; os.write(_our_socket(), pickle.dumps({'ok': True, 'passed': True}) * 50)",
        "not checked", "malformed"),
    "announces_a_1_5_gib_message": (
        "", "os.write(_our_socket(), struct.pack('<4sII', b'GCW1', 64, 1) + struct.pack('<Q', 3 * 2 ** 29))",
        "not checked", "more than the cap"),
    # forging the verdict in its own process changes nothing decided elsewhere
    "patches_gradcheck_at_import": (
        "import gradcheck.engine, gradcheck.numeric.model as model, gradcheck.results.model as results\n"
        "import gradcheck.results.verdict as verdict\n"
        "results.GradientCheckResult.passed = property(lambda self: True)\n"
        "results.ParamReport.passed = property(lambda self: True)\n"
        "verdict.suite_verdict = lambda suite: None\n"
        "gradcheck.engine.outcome_status = lambda *a, **k: 'passed'\n"
        "for _loose in model._DEFAULTS.values(): _loose.update(rtol=1e9, atol=1e9)\n"
        "SCALE = 2.0",
        "", "failed", "wrong gradient for W1"),
    "exits_0_in_gradients": ("", "pass", "not checked", "exited with code 0"),
    # escaping its limits
    "raises_its_memory_limit_and_takes_3_gib": (
        "", "import resource, numpy\n"
            "        for limit in ((resource.RLIM_INFINITY,) * 2, (resource.getrlimit(resource.RLIMIT_AS)[1],) * 2):\n"
            "            try: resource.setrlimit(resource.RLIMIT_AS, limit)\n"
            "            except (ValueError, OSError): pass\n"
            "        numpy.ones(3 * 2 ** 30 // 8)",
        "not checked", "memory"),
    "three_children_of_700_mib": (
        "", "import numpy, time\n"
            "        for _ in range(3):\n"
            "            if os.fork() == 0:\n"
            "                a = numpy.ones(700 * 2 ** 20 // 8); time.sleep(600); os._exit(0)\n"
            "        time.sleep(30)",
        "not checked", "memory"),
    "detaches_a_busy_loop": (
        "", f"_detach(lambda: (_named({STRAY!r}), _spin()))", "passed", ""),
    "kills_every_process_it_can": (
        "", "os.kill(-1, signal.SIGKILL)", "passed", ""),
    # files
    "rewrites_its_neighbours": (
        "import glob\n"
        "for _path in glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), '*.py')):\n"
        "    if _path != os.path.abspath(__file__):\n"
        "        try: open(_path, 'w').write(open(os.path.abspath(__file__)).read())\n"
        "        except OSError: pass",
        "", "passed", ""),
    "appends_to_the_installed_package": (
        "import glob, gradcheck\n"
        "for _path in glob.glob(os.path.join(os.path.dirname(gradcheck.__file__), '**', '*.py'), recursive=True):\n"
        "    try: open(_path, 'a').write('\\nimport os; os._exit(0)\\n')\n"
        "    except OSError: pass",
        "", "passed", ""),
    "fills_and_deletes_its_scratch": (
        "", "import shutil, tempfile\n"
            "        for folder in (tempfile.gettempdir(), os.environ.get('HOME', '/tmp')):\n"
            "            shutil.rmtree(folder, ignore_errors=True)\n"
            "        try:\n"
            "            with open(os.path.join(tempfile.gettempdir(), 'fill'), 'wb') as f:\n"
            "                for _ in range(4096): f.write(bytes(2 ** 20))\n"
            "        except OSError: pass",
        "passed", ""),
}


def write_submission(folder: Path, name: str, kind: str, seed: int = 0) -> str:
    hooks = {"loss_hook": "pass", "gradients_hook": "pass", "build_hook": "pass", "scale": "1.0",
             "seed": seed, **KINDS[kind][0]}
    prelude = hooks.pop("prelude", "")
    path = folder / f"{name}.py"
    path.write_text(prelude + "\n" + NETWORK.format(**hooks), encoding="utf-8")
    return f"{path}:build"


def write_hostile(folder: Path, name: str, kind: str, seed: int = 0) -> str:
    """A submission attacking the grader in the way :data:`HOSTILE` names ``kind``."""
    prelude, attack, _, _ = HOSTILE[kind]
    hooks = {"loss_hook": "pass", "gradients_hook": "pass", "build_hook": "pass",
             "scale": "SCALE" if "SCALE =" in prelude else "1.0", "seed": seed}
    if kind == "exits_0_in_gradients":
        hooks["gradients_hook"] = "os._exit(0)"
    elif attack:  # once, at the first call of loss; what it raises is not the network's error
        lines = [line.strip() if not line.startswith("        ") else line[8:] for line in attack.splitlines()]
        body = "\n".join(" " * 16 + line for line in lines)
        hooks["loss_hook"] = f"if _once():\n            try:\n{body}\n            except OSError:\n                pass"
    path = folder / f"{name}.py"
    path.write_text(ONCE + "\n" + prelude + "\n" + NETWORK.format(**hooks), encoding="utf-8")
    return f"{path}:build"


def write_folder(folder: Path, count: int, kinds=None) -> list[tuple[str, str]]:
    """``count`` submissions cycling through ``kinds`` (default every kind of :data:`KINDS`):
    a list of (target, kind). Kinds of :data:`HOSTILE` are written by :func:`write_hostile`."""
    kinds = sorted(KINDS) if kinds is None else list(kinds)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        write = write_hostile if kind in HOSTILE else write_submission
        written.append((write(folder, f"student_{i:03d}_{kind}", kind, i), kind))
    return written
