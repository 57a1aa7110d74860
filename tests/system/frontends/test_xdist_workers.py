"""The plugin with explicit xdist workers (--tx), the path to checks on several machines."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # subprocesses and nested pytest runs

pytest_plugins = ["pytester"]

FIXED = f"{Path(__file__).resolve().parents[3] / 'examples' / 'blog_fixed.py'}:target"


def test_plugin_runs_on_two_popen_workers_and_gathers_the_html(pytester):
    result = pytester.runpytest("--gradcheck-target", FIXED, "--gradcheck-mode", "directional",
                                "-d", "--tx", "2*popen", "--gradcheck-html", "page.html")
    result.assert_outcomes(passed=10)
    assert "check_gradients_batch1" in (pytester.path / "page.html").read_text()
