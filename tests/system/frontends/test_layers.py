"""Function-pair layers through every front end: the command line, the plugin and the Python API
check a course's whole layer list (a file, a notebook, a LAYERS list) with one verdict per layer,
and every bug of the layer corpus is flagged on exactly its declared arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gradcheck
from gradcheck.config import CheckConfig
from gradcheck.engine import run_suite
from gradcheck.frontends.session import load_target
from gradcheck.results import SuiteResult
from tests.corpus.layers import course_layers, make_notebooks
from tests.corpus.layers.catalogue import BUGS, LAYERS
from tests.system.frontends.helpers import gradcheck as run_gradcheck
from tests.system.reliability.helpers import run_cli

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[3]
COURSE = ROOT / "tests" / "corpus" / "layers" / "course_layers.py"
DICT_STYLE = ROOT / "tests" / "corpus" / "layers" / "dict_style.py"
#: A file listing every bug of the corpus as a layer of its own, named after the bug, on the
#: corpus's example arguments.
BUGGY_LAYERS = """
import numpy as np

import gradcheck
from tests.corpus.layers.catalogue import BUGS, LAYERS as KINDS

LAYERS = [gradcheck.adapters.function_layer(bug.forward, bug.backward,
                                            *KINDS[bug.kind].example_args(0, np.float64).values(),
                                            name=bug.name.replace("-", "_"))
          for bug in BUGS]
"""
WRONG = {bug.name.replace("-", "_"): set(bug.wrong) for bug in BUGS}


def _failed(suite: SuiteResult) -> dict[str, set[str]]:
    return {o.subject: set(o.result.failed) for o in suite.outcomes if o.group == "gradients"}


@pytest.fixture(scope="module")
def buggy_layers(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bugs") / "buggy_layers_list.py"
    path.write_text(BUGGY_LAYERS, encoding="utf-8")
    return path


def test_the_command_line_checks_a_whole_course_file_one_verdict_per_layer(tmp_path):
    out = run_cli(["check", f"{COURSE}:*", "--json", str(tmp_path / "layers.json")])
    assert out.code == 0, out.stdout
    suite = SuiteResult.from_dict(json.loads((tmp_path / "layers.json").read_text()))
    kinds = [kind for kind in LAYERS if LAYERS[kind].style != "dict"]
    assert [o.subject for o in suite.outcomes] == kinds
    assert all(o.status == "passed" for o in suite.outcomes)
    assert out.stdout.splitlines()[0] == f"checking {COURSE}:* (17 function-pair layers)"


def test_every_bug_is_flagged_on_exactly_its_arguments_from_the_command_line(buggy_layers, tmp_path):
    out = run_cli(["check", f"{buggy_layers}:LAYERS", "--json", str(tmp_path / "bugs.json")])
    assert out.code == 1
    suite = SuiteResult.from_dict(json.loads((tmp_path / "bugs.json").read_text()))
    assert _failed(suite) == WRONG
    assert suite.verdict.status == "failed"


def test_every_bug_is_flagged_on_exactly_its_arguments_in_the_plugin(pytester, buggy_layers):
    result = pytester.runpytest_inprocess("--gradcheck-target", f"{buggy_layers}:LAYERS",
                                          "-p", "no:cacheprovider")
    result.assert_outcomes(failed=len(BUGS), skipped=1)
    failed = {}
    for report in result.reprec.getreports("pytest_runtest_logreport"):
        for name, value in report.user_properties:
            if name == "gradcheck_outcome" and report.when == "call":
                outcome = json.loads(value)["outcome"]
                if outcome["group"] == "gradients":
                    failed[outcome["subject"]] = set(outcome["result"]["failed"])
    assert failed == WRONG


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_plugin_passes_every_correct_layer_of_the_notebook(pytester, dtype):
    result = pytester.runpytest_inprocess("--gradcheck-target", f"{make_notebooks.COURSE_NOTEBOOK}:*",
                                          "--gradcheck-dtype", dtype, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(LAYERS), skipped=1)
    result.stdout.fnmatch_lines(["*gradcheck: PASSED: 19 of 20 checks of *course_layers.ipynb:* "
                                 "(19 function-pair layers), 1 skipped: check_stability_probes*"])


def test_one_command_checks_a_notebook_and_names_its_failing_cell(tmp_path):
    done = run_gradcheck("check", f"{make_notebooks.COURSE_NOTEBOOK}:*", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("\npass  check_") == len(LAYERS)
    done = run_gradcheck("check", f"{make_notebooks.BROKEN_NOTEBOOK}:*", cwd=tmp_path)
    assert done.returncode == 2
    assert (f"cell {make_notebooks.BROKEN_CELL} raised NameError: name 'relu_fowrard' is not defined, "
            f"at line {make_notebooks.BROKEN_LINE}: out, cache = relu_fowrard(x)") in done.stderr


def test_a_file_named_alone_checks_its_layers(tmp_path):
    out = run_cli(["check", str(DICT_STYLE)])
    assert out.code == 0 and out.stdout.startswith(f"checking {DICT_STYLE} (2 function-pair layers)")
    assert "note: Wya, by in parameters get no gradient from rnn_cell_backward" in run_cli(
        ["check", str(DICT_STYLE), "-v"]).stdout


@pytest.mark.parametrize(("flag", "said"), [
    (["--data", "x.npz"], "--data: function-pair layers are checked on example arguments"),
    (["--batch-size", "8"], "--batch-size: function-pair layers are checked on example arguments"),
])
def test_options_that_do_not_apply_to_layers_are_refused(tmp_path, flag, said):
    import numpy as np

    np.savez(tmp_path / "x.npz", X=np.zeros((4, 3)), y=np.zeros(4, dtype=int))
    flag = [str(tmp_path / f) if f.endswith(".npz") else f for f in flag]
    out = run_cli(["check", f"{COURSE}:relu", *flag])
    assert out.code == 2 and said in out.stderr


def test_a_misspelt_layer_lists_the_layers_there():
    out = run_cli(["check", f"{COURSE}:convv"])
    assert out.code == 2
    assert "has no attribute or layer 'convv'; did you mean 'conv'? Its function-pair layers: affine" in out.stderr


def test_the_python_api_and_the_command_line_agree(tmp_path, buggy_layers):
    config = CheckConfig()
    loaded = load_target(f"{buggy_layers}:LAYERS", config)
    suite = run_suite(loaded.target, config, groups=("gradients",))
    assert _failed(suite) == WRONG
    direct = run_suite(gradcheck.adapters.function_layers(course_layers, "lstm_step", "word_embedding"),
                       groups=("gradients",))
    assert [o.name for o in direct.outcomes] == ["check_lstm_step", "check_word_embedding"]
    assert direct.verdict.status == "passed"


def test_several_layer_targets_in_one_command_run_each_in_its_worker(tmp_path):
    done = run_gradcheck("check", f"{COURSE}:conv", f"{make_notebooks.COURSE_NOTEBOOK}:lstm_cell",
                         cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "checking 2 targets, each in a process of its own" in done.stdout


def test_parametrize_with_checks_takes_a_modules_layers(pytester):
    pytester.makepyfile(test_my_layers=f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import gradcheck
from gradcheck.pytest_plugin import parametrize_with_checks
from tests.corpus.layers import course_layers

@parametrize_with_checks(gradcheck.adapters.function_layers(course_layers, "conv", "rnn", "svm_loss"))
def test_layers(check):
    check()
""")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", "not stability")
    result.assert_outcomes(passed=3, deselected=1)
