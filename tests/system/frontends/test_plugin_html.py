"""The plugin's HTML report under xdist: the same page whichever worker finishes first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow  # two nested pytest runs under xdist

BUGGY = f"{Path(__file__).resolve().parents[3] / 'examples' / 'blog_buggy.py'}:target"


def _page(pytester, name):
    result = pytester.runpytest_subprocess("--gradcheck-target", BUGGY, "--gradcheck-mode", "directional",
                                "-n", "2", "-k", "gradients or softmax or shapes",
                                "--gradcheck-html", name)
    assert result.ret == 1
    html = (pytester.path / name).read_text()
    html = re.sub(r"<time>[^<]*</time>", "<time></time>", html)
    # the recorded command line names the file and pytester's temporary folder
    return re.sub(r"runpytest-\d+|--gradcheck-html[^<\"]*", "", html)


def test_html_under_two_workers_is_the_same_each_run_and_titled_by_target(pytester):
    first, second = _page(pytester, "one.html"), _page(pytester, "two.html")
    assert first == second
    title = re.search(r"<title>(.*?)</title>", first, re.S).group(1)
    assert "blog_buggy.py:target" in title and "conformance suite" not in title


INNER = '''
import numpy  # noqa: F401 - a NumPy project's tests have it loaded: pytester drops what a run imports,
              # and NumPy's C core cannot be imported twice in one process

pytest_plugins = ["pytester"]


def test_two_runs_in_one_process(pytester):
    for name in ("one.html", "two.html"):
        result = pytester.runpytest_inprocess(
            "--gradcheck-target", {target!r}, "--gradcheck-mode", "directional",
            "-k", "softmax", "--gradcheck-html", name)
        assert result.ret == 1, result.stderr.str()[-3000:]
        assert "<svg" in (pytester.path / name).read_text(encoding="utf-8")
'''


def test_html_twice_in_one_process(pytester):
    """pytester (and a notebook calling pytest.main) runs pytest twice in one process; between
    the runs pytester forgets the modules the first imported, matplotlib among them. The second
    report must still draw its charts, not stop on an INTERNALERROR."""
    pytester.makepyfile(test_inner=INNER.format(target=BUGGY))
    result = pytester.runpytest_subprocess("-p", "pytester", "test_inner.py")
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.assert_outcomes(passed=1)
