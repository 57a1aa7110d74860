"""Names and messages from user code reach the terminal and the page escaped."""

from __future__ import annotations

import numpy as np

import gradcheck
from gradcheck.render.html_report import render_html
from gradcheck.results import CheckOutcome, SuiteResult
from tests.system.frontends.helpers import gradcheck as run_gradcheck

FORGED = "W\nPASSED: all"
HOSTILE = {"forged line": FORGED, "ansi": "W\x1b[2J\x1b[31m", "rtl": "W\u202e1b", "surrogate": "W\udc80"}


def _wrong_check(name):
    rng = np.random.default_rng(0)
    params = {name: rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    loss = lambda: float(np.sum(params[name] ** 2) + np.sum(params["b"] ** 2))  # noqa: E731
    grads = lambda: {name: 4 * params[name], "b": 2 * params["b"]}  # noqa: E731 (W twice too big)
    return gradcheck.check_gradients(loss, params, grads)


def test_a_forged_name_never_prints_a_line_of_its_own():
    for name in HOSTILE.values():
        text = str(_wrong_check(name))
        lines = text.splitlines()
        assert not any(line.startswith("PASSED") for line in lines), text
        assert lines[-1].startswith("FAILED: wrong gradient for")
        assert "\x1b" not in text and "\u202e" not in text
        text.encode("utf-8")  # a lone surrogate is escaped, so the text encodes


def test_the_suite_and_an_error_message_are_escaped():
    suite = SuiteResult(target="net.py:target", outcomes=[
        CheckOutcome("check_gradients_batch1", "gradients", "batch 1", "error", None,
                     "the loss function raised ValueError: bad\nPASSED: all 3 checks")])
    assert not any(line.startswith("PASSED") for line in str(suite).splitlines())


def test_html_shows_bidi_overrides_and_surrogates_escaped():
    for key in ("rtl", "surrogate", "ansi"):
        suite = SuiteResult(target=f"net{HOSTILE[key]}.py:target",
                            outcomes=[CheckOutcome("check_gradients_batch1", "gradients", "batch 1",
                                                   "failed", _wrong_check(HOSTILE[key]))])
        page = render_html(suite)
        page.encode("utf-8")
        assert "\u202e" not in page and "\x1b" not in page
        escaped = HOSTILE[key].encode("unicode_escape", "backslashreplace").decode("ascii")[1:]
        assert escaped.replace("\\\\", "\\") in page


def test_the_command_line_does_not_print_a_forged_verdict(tmp_path):
    (tmp_path / "net.py").write_text(
        "import numpy as np\n"
        "class Net:\n"
        "    def __init__(self):\n"
        "        self.params = {'W\\nPASSED: all': np.ones((4, 3)) * 0.1}\n"
        "    def loss(self, X, y):\n"
        "        return float(np.sum((X @ self.params['W\\nPASSED: all']) ** 2))\n"
        "    def gradients(self, X, y):\n"
        "        return {'W\\nPASSED: all': 3 * X.T @ (X @ self.params['W\\nPASSED: all'])}\n"
        "target = Net()\n")
    run = run_gradcheck("check", "net.py:target", "--mode", "directional", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert not any(line.startswith("PASSED") for line in run.stdout.splitlines()), run.stdout
