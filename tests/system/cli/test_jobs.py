"""--jobs: the gradient checks on worker processes, with a serial run's verdicts."""

import json
from pathlib import Path

import pytest

from gradcheck.config import CheckConfig
from gradcheck.errors import InvalidArgumentError
from gradcheck.frontends.cli import main
from gradcheck.results import SuiteResult

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
# 20-16-10 layer objects: 506 parameters, enough for each to be split over two workers
TARGETS = {"correct": f"{EXAMPLES / 'layer_objects_correct.py'}:target",
           "buggy": f"{EXAMPLES / 'layer_objects_buggy.py'}:target"}


def _numbers(suite: SuiteResult) -> dict:
    """Each check's status and, per parameter, its verdict and worst error (repr: NaN equals NaN)."""
    table = {}
    for outcome in suite.outcomes:
        params = getattr(outcome.result, "params", None) or []
        table[outcome.name] = (outcome.status,
                               [(p.name, p.passed, repr(p.max_rel_error), p.worst_index) for p in params])
    return table


def _check(tmp_path, spec, jobs) -> tuple[int, dict]:
    path = tmp_path / f"jobs{jobs}.json"
    code = main(["check", spec, "--batch-size", "12", "--jobs", str(jobs), "--json", str(path)])
    return code, SuiteResult.from_dict(json.loads(path.read_text()))


@pytest.mark.slow
@pytest.mark.parametrize("which, expected_code", [("correct", 0), ("buggy", 1)])
def test_cli_gives_the_serial_verdicts_with_two_jobs(tmp_path, capsys, which, expected_code):
    serial_code, serial = _check(tmp_path, TARGETS[which], 1)
    parallel_code, parallel = _check(tmp_path, TARGETS[which], 2)
    assert serial_code == parallel_code == expected_code
    assert serial.config["jobs"] == 1 and parallel.config["jobs"] == 2
    assert _numbers(parallel) == _numbers(serial)  # bit for bit, per parameter
    # no note of a fall-back to serial: the workers did the differences
    assert [o.result.notes for o in parallel.outcomes] == [o.result.notes for o in serial.outcomes]
    if which == "buggy":
        assert "scale" in {f.kind for f in parallel["check_gradients_batch12"].findings}


def test_jobs_reach_every_gradient_check(monkeypatch):
    """Every check_gradients call the engine makes (network and single layers) gets jobs."""
    import gradcheck.checks.gradients as api
    from gradcheck.engine import run_suite
    from reference_net.network import build_mlp

    seen = []
    original = api.check_gradients

    def spy(*args, **kwargs):
        seen.append(kwargs.get("jobs"))
        return original(*args, **kwargs)

    monkeypatch.setattr(api, "check_gradients", spy)
    monkeypatch.setattr("gradcheck.checks.pipeline.check_gradients", spy)
    monkeypatch.setattr("gradcheck.checks.layers.check_gradients", spy)
    suite = run_suite(build_mlp((6, 5, 3), seed=0), groups=("gradients",), jobs=2)
    assert suite.passed
    assert len(seen) >= 5 and set(seen) == {2}  # 3 network batches + one per layer


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_bad_jobs_names_the_option(bad):
    with pytest.raises(InvalidArgumentError, match="jobs"):
        CheckConfig(jobs=bad)


def test_cli_bad_jobs_names_the_flag(capsys):
    assert main(["check", TARGETS["correct"], "--jobs", "0"]) == 2
    assert "--jobs" in capsys.readouterr().err
