"""Function-pair layer files that attack the grader: checked out of process like a network.

A layer file (``layers.py:*``) is loaded in the target's child; the checking process gets each
layer's forward and backward as requests and decides every verdict itself. So a file that
patches gradcheck at import still fails, one that ends its process without answering or loops
is "not checked" (exit 2, never a pass), the front end never imports it, and what it writes lands
in its own scratch view. The verdicts are the ones the Python API gives in one process.
"""

from __future__ import annotations

import builtins
import json
import sys
from pathlib import Path

import pytest

from gradcheck.config import CheckConfig
from gradcheck.engine import COMMAND_GROUPS, run_suite
from gradcheck.frontends.session import load_target, sandboxed
from tests.system.frontends.helpers import gradcheck as run_gradcheck
from tests.system.safety.submissions import HOSTILE

pytest_plugins = ["pytester"]

linux = pytest.mark.skipif(sys.platform != "linux", reason="process groups and /proc are Linux's")
ROOT = Path(__file__).resolve().parents[3]

#: An affine layer and a softmax loss, course style; ``{prelude}`` runs at import (after SCALE is
#: set, so it may change it: 2.0 makes db wrong), the hooks at the start of each call.
LAYER_FILE = '''
import os

import numpy as np

SCALE = 1.0
{prelude}


def affine_forward(x, w, b):
    {forward_hook}
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    {backward_hook}
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0) * SCALE
    return dx, dw, db


def softmax_loss(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.log(probs[np.arange(n), y]).sum() / n
    dx = probs.copy()
    dx[np.arange(n), y] -= 1
    return loss, dx / n
'''

#: The prelude of the hostile network that patches gradcheck at import (submissions.HOSTILE),
#: which also sets SCALE = 2.0: a wrong db.
PATCHES_GRADCHECK = HOSTILE["patches_gradcheck_at_import"][0]


def layer_file(folder: Path, name: str, *, prelude: str = "", forward_hook: str = "pass",
               backward_hook: str = "pass") -> str:
    path = folder / f"{name}.py"
    path.write_text(LAYER_FILE.format(prelude=prelude, forward_hook=forward_hook,
                                      backward_hook=backward_hook), encoding="utf-8")
    return path.name


def _confined() -> bool:
    from gradcheck.frontends.isolation import Child, Limits

    with Child(Limits(seconds=30, memory_mb=None), adopt=False) as child:
        return child.containment == ""


needs_namespaces = pytest.mark.skipif(sys.platform != "linux" or not _confined(),
                                      reason="the kernel gives no namespaces here: run targets in a container")


@linux
def test_a_layer_file_that_patches_gradcheck_at_import_still_fails(tmp_path):
    target = layer_file(tmp_path, "forger", prelude=PATCHES_GRADCHECK)
    run = run_gradcheck("check", f"{target}:*", "--json", "v.json", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith("FAILED: wrong gradient for affine.b")
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert verdict["passed"] is False
    assert [o["status"] for o in verdict["checks"] if o["group"] == "gradients"] == ["failed", "passed"]


@linux
def test_the_plugin_fails_a_layer_file_that_patches_gradcheck_at_import(tmp_path):
    from tests.system.reliability.helpers import run_pytest

    layer_file(tmp_path, "forger", prelude=PATCHES_GRADCHECK)
    outcome = run_pytest(tmp_path, ["--gradcheck-target=forger.py:*"])
    assert outcome.code == 1, outcome.output
    assert "gradcheck: FAILED: wrong gradient for affine.b" in outcome.output


@linux
@pytest.mark.parametrize("where", ["forward", "backward"])
def test_os_exit_0_in_a_layer_is_not_checked_never_a_pass(tmp_path, where):
    target = layer_file(tmp_path, "quitter", **{f"{where}_hook": "os._exit(0)"})
    run = run_gradcheck("check", f"{target}:affine", "--json", "x.json", cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "exited with code 0" in run.stdout + run.stderr
    assert "PASSED" not in run.stdout
    assert json.loads((tmp_path / "x.json").read_text())["passed"] is False


@linux
def test_a_layer_that_loops_times_out_not_checked(tmp_path):
    target = layer_file(tmp_path, "looper", backward_hook="while True: pass")
    run = run_gradcheck("check", f"{target}:*", "--timeout", "5", cwd=tmp_path, timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "timed out" in run.stdout + run.stderr
    assert "PASSED" not in run.stdout


#: Preludes that patch the child's side of the wire to describe or answer for its layers falsely.
FORGED = {
    "a signature of no kind": "import gradcheck.frontends.served_layers as served\n"
                              "served.facts = lambda f: {'name': 'f', 'parameters': [['x', 'NO_KIND', False]], "
                              "'returned': None}",
    "a cache handle that is text": "import gradcheck.frontends.served_layers as served\n"
                                   "served.LayerOps.keep_cache = lambda self, cache, args: 'handle'",
    "a write into an argument that is not there": (
        "import gradcheck.frontends.served_layers as served\n"
        "served.Written.changes = lambda self, encoder: [[99, None, 0]]"),
}


@linux
@pytest.mark.parametrize("forged", sorted(FORGED))
def test_a_child_patched_to_answer_falsely_is_not_checked(tmp_path, forged):
    target = layer_file(tmp_path, "forger", prelude=FORGED[forged])
    run = run_gradcheck("check", f"{target}:affine", cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "malformed" in run.stdout + run.stderr
    assert "PASSED" not in run.stdout


@needs_namespaces
def test_a_file_a_layer_writes_next_to_it_stays_in_its_own_view(tmp_path):
    target = layer_file(tmp_path, "writer", forward_hook=(
        "open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'planted.txt'), 'w').write('x')"))
    run = run_gradcheck("check", f"{target}:*", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (tmp_path / "planted.txt").exists()


def test_the_checking_process_never_imports_the_layer_file(tmp_path):
    marker = "import builtins; builtins.gc_layers_imported = os.getpid()"
    spec = str(tmp_path / layer_file(tmp_path, "marked", prelude=marker))
    config = CheckConfig()
    with sandboxed(f"{spec}:*", config) as loaded:
        suite = run_suite(loaded.target, config, groups=COMMAND_GROUPS["check"], **loaded.engine_arguments())
    assert suite.verdict.status == "passed"
    assert [o.name for o in suite.outcomes if o.group == "gradients"] == ["check_affine", "check_softmax_loss"]
    assert not hasattr(builtins, "gc_layers_imported")
    assert not [m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == spec]


# -- the same verdicts as in one process --------------------------------------------------------

#: Keys whose values are timings, or counts a time guard's timing can change.
_TIMED = ("seconds", "n_loss_evals", "environment", "elapsed")


def _untimed(value):
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if not any(t in k for t in _TIMED)}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _in_one_process(spec: str, **options) -> list[dict]:
    config = CheckConfig(**options)
    loaded = load_target(spec, config)
    suite = run_suite(loaded.target, config, groups=COMMAND_GROUPS["check"], **loaded.engine_arguments())
    return [_untimed(o.to_dict()) for o in suite.outcomes]


#: Files whose verdicts must not change: a correct and a buggy course file, and a forward that
#: writes into its argument (the array guard must see it through the child).
AGREEING = {
    "course_buggy": (str(ROOT / "examples" / "course_layers_buggy.py") + ":*", 1),
    "course_correct": (str(ROOT / "tests" / "corpus" / "layers" / "course_layers.py") + ":affine", 0),
    "writes_into_x": (None, 1),
}


@linux
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(AGREEING))
def test_the_command_line_gives_the_verdicts_of_one_process(tmp_path, name, dtype):
    spec, code = AGREEING[name]
    if spec is None:
        spec = str(tmp_path / layer_file(tmp_path, "mutator", forward_hook="x += 1e-3")) + ":affine"
    run = run_gradcheck("check", spec, "--dtype", dtype, "--json", "v.json", cwd=tmp_path)
    assert run.returncode == code, run.stdout + run.stderr
    suite = json.loads((tmp_path / "v.json").read_text())
    assert [_untimed(o) for o in suite["checks"]] == _in_one_process(spec, dtype=dtype)
    if name == "writes_into_x":
        assert "x: calling forward changed its values" in run.stdout


def test_the_plugin_gives_the_verdicts_of_one_process(pytester):
    spec = str(ROOT / "examples" / "course_layers_buggy.py") + ":*"
    result = pytester.runpytest_inprocess("--gradcheck-target", spec, "-p", "no:cacheprovider")
    seen = []
    for report in result.reprec.getreports("pytest_runtest_logreport"):
        for name, value in report.user_properties:
            if name == "gradcheck_outcome" and report.when == "call":
                seen.append(_untimed(json.loads(value)["outcome"]))
    assert [o for o in seen if o["group"] == "gradients"] == \
        [o for o in _in_one_process(spec) if o["group"] == "gradients"]
    assert len(seen) == 5  # four layers, and the probes said not to apply
