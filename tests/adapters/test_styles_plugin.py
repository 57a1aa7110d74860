"""The pytest plugin on each newly covered style: correct passes every check, buggy fails naming the parameter."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

CASES = [
    ("model_object_correct", None),
    ("model_object_buggy", "W1"),
    ("layer_library_correct", None),
    ("layer_library_buggy", "b1"),
    ("per_sample_cost_correct", None),
    ("per_sample_shapes_buggy", "W1"),
]


@pytest.mark.parametrize(("example", "named"), CASES, ids=[c[0] for c in CASES])
def test_plugin_verdict(pytester, example, named):
    result = pytester.runpytest("--gradcheck-target", f"{EXAMPLES / example}.py:target",
                                "--gradcheck-mode", "directional")
    outcomes = result.parseoutcomes()
    if named is None:
        assert result.ret == 0 and outcomes.get("passed", 0) >= 6, result.stdout.str()
    else:
        assert outcomes.get("failed", 0) >= 1, result.stdout.str()
        result.stdout.fnmatch_lines([f"*{named}*"])
    assert "Traceback" not in result.stdout.str()
