"""--dtype builds the network in that dtype where the target is a factory taking dtype=, and says
so; where it is not, the label says the network could not be built in it and what was checked."""

import json
from pathlib import Path

import pytest

from gradcheck.frontends.cli import main

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
FACTORY = f"{EXAMPLES / 'layer_library_correct.py'}:target"  # def target(dtype="float64")
OBJECT = f"{EXAMPLES / 'cache_pairs_correct.py'}:target"  # a built network, no dtype=


def _report(tmp_path, spec, *flags):
    path = tmp_path / "report.json"
    code = main(["check", spec, "--mode", "sample", "--samples", "4", "--json", str(path), *flags])
    return code, json.loads(path.read_text())


def _param_dtypes(report) -> set:
    return {p["dtype"] for c in report["checks"] if c["name"].startswith("check_gradients")
            for p in c["result"]["params"]}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_factory_taking_dtype_is_built_in_the_dtype_asked_for(tmp_path, capsys, dtype):
    code, report = _report(tmp_path, FACTORY, "--dtype", dtype)
    assert code == 0
    assert _param_dtypes(report) == {dtype}
    assert f"built with dtype={dtype}" in report["target"]
    assert f"built with dtype={dtype}" in capsys.readouterr().out


def test_without_dtype_a_factory_builds_its_own_default(tmp_path, capsys):
    code, report = _report(tmp_path, FACTORY)
    assert code == 0
    assert _param_dtypes(report) == {"float64"}
    assert "dtype" not in report["target"]


def test_a_target_that_takes_no_dtype_says_it_could_not_be_built_in_it(tmp_path, capsys):
    code, report = _report(tmp_path, OBJECT, "--dtype", "float32")
    assert code == 0
    assert _param_dtypes(report) == {"float64"}
    said = capsys.readouterr().out.splitlines()[0]
    assert "--dtype float32 could not build a float32 network" in said
    assert "parameters stay float64 and only the data are float32" in said
