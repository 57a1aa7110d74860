"""The same seed gives the same verdicts and numbers: across calls, processes and pytest -n 2."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gradcheck import check_gradients
from tests.zoo.networks import BiasSummedOverAllUnits, Correct, SignFlipped

ROOT = Path(__file__).resolve().parents[3]


def _run(net_class, mode, seed):
    net = net_class()
    return check_gradients(net.loss, net.params, net.gradients(), mode=mode, seed=seed).to_dict()


@pytest.mark.parametrize("mode", ["full", "sample", "directional"])
@pytest.mark.parametrize("net_class", [Correct, SignFlipped, BiasSummedOverAllUnits],
                         ids=lambda c: c.__name__)
def test_same_seed_same_dict(net_class, mode):
    assert _run(net_class, mode, 7) == _run(net_class, mode, 7)


def test_another_seed_samples_other_entries():
    first, second = _run(SignFlipped, "sample", 1), _run(SignFlipped, "sample", 2)
    assert first["passed"] == second["passed"]
    assert [p["worst_index"] for p in first["params"]] != [p["worst_index"] for p in second["params"]]


WORKER_TESTS = '''
import json
import os

import pytest

from gradcheck import check_gradients
from tests.zoo.networks import BiasSummedOverAllUnits, Correct, SignFlipped

OUT = os.environ["GRADCHECK_REPRO_OUT"]


@pytest.mark.parametrize("mode", ["full", "sample", "directional"])
@pytest.mark.parametrize("name", ["Correct", "SignFlipped", "BiasSummedOverAllUnits"])
def test_write(name, mode):
    net = {"Correct": Correct, "SignFlipped": SignFlipped,
           "BiasSummedOverAllUnits": BiasSummedOverAllUnits}[name]()
    result = check_gradients(net.loss, net.params, net.gradients(), mode=mode, seed=3)
    with open(os.path.join(OUT, f"{name}-{mode}.json"), "w", encoding="utf-8") as handle:
        json.dump(result.to_dict(), handle, sort_keys=True)
'''


def _pytest_n2(test_file: Path, out: Path) -> dict:
    out.mkdir()
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", "--rootdir",
         str(test_file.parent), str(test_file)],
        cwd=ROOT, env={**_env(), "GRADCHECK_REPRO_OUT": str(out)}, capture_output=True, text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.iterdir())}


def _env() -> dict:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


@pytest.mark.slow
def test_same_json_under_pytest_xdist_twice(tmp_path):
    test_file = tmp_path / "test_repro_worker.py"
    test_file.write_text(textwrap.dedent(WORKER_TESTS), encoding="utf-8")
    first = _pytest_n2(test_file, tmp_path / "first")
    second = _pytest_n2(test_file, tmp_path / "second")
    assert len(first) == 9
    assert first == second
    in_process = _run(SignFlipped, "sample", 3)
    assert first["SignFlipped-sample.json"] == json.loads(json.dumps(in_process, sort_keys=True))
