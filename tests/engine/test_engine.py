"""The engine: one config, one registry of checks, one suite result that every front end shares."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gradcheck import CheckConfig, SuiteResult, iter_checks, run_suite
from gradcheck.errors import InvalidArgumentError
from gradcheck.frontends.cli import main
from gradcheck.frontends.session import load_target
from gradcheck.render.html_report import render_html
from tests.system.reliability.helpers import TARGET_SOURCE, run_cli, run_pytest

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BUGGY = f"{EXAMPLES / 'blog_buggy.py'}:target"
OPTIONS = ["--mode", "directional", "--batch-size", "12", "--seed", "3"]


def _plugin_verdicts(pytester, spec, options):
    flags = [f"--gradcheck-{flag[2:]}" if flag.startswith("--") else flag for flag in options]
    reprec = pytester.inline_run("--gradcheck-target", spec, *flags)
    return {r.nodeid.rsplit("::", 1)[-1]: r.passed
            for r in reprec.getreports("pytest_runtest_logreport") if r.when == "call"}


def test_cli_and_plugin_run_the_same_checks_with_the_same_verdicts(pytester, tmp_path):
    verdicts = {}
    for command in ("check", "probe"):
        path = tmp_path / f"{command}.json"
        assert main([command, BUGGY, *OPTIONS, "--json", str(path)]) == 1
        suite = SuiteResult.from_dict(json.loads(path.read_text()))
        assert suite.config["batch_size"] == 12 and suite.config["seed"] == 3
        verdicts.update({o.name: o.passed for o in suite.outcomes})
    assert "check_gradients_batch12" in verdicts
    assert _plugin_verdicts(pytester, BUGGY, OPTIONS) == verdicts
    assert not all(verdicts.values()) and any(verdicts.values())


def test_plugin_ids_read_well_and_collected_counts_them(pytester):
    result = pytester.runpytest("--gradcheck-target", BUGGY, "--gradcheck-mode", "directional",
                                "--collect-only", "-q")
    lines = [line for line in result.outlines if "::" in line]
    assert "blog_buggy.py::check_gradients_batch1" in lines
    assert not [line for line in lines if line.startswith("::")]
    result = pytester.runpytest("--gradcheck-target", BUGGY, "--gradcheck-mode", "directional",
                                "--collect-only")
    result.stdout.fnmatch_lines(["collected 10 items"])


#: A target that counts how often its file ran in this process, and says so in the one place a
#: run shows: its sigmoid raises with the count, so the sigmoid probe fails with it.
COUNTED = """
import builtins
builtins.gradcheck_executions = getattr(builtins, "gradcheck_executions", 0) + 1
""" + TARGET_SOURCE + """

class Counted(Net):
    def sigmoid(self, Z):
        raise ValueError(f"this file ran {builtins.gradcheck_executions} time(s) in this process")


target = Counted()
"""


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["in_process", "xdist"])
def test_plugin_executes_the_users_file_once_per_process(tmp_path, workers):
    if workers:
        pytest.importorskip("xdist")
    (tmp_path / "counted.py").write_text(COUNTED, encoding="utf-8")
    outcome = run_pytest(tmp_path, ["--gradcheck-target=counted.py:target",
                                    "--gradcheck-mode=directional", *workers])
    assert outcome.code == 1, outcome.output  # the sigmoid probe fails, saying how often the file ran
    assert "this file ran 1 time(s) in this process" in outcome.output, outcome.output
    assert "ran 2 time" not in outcome.output


@pytest.mark.slow
def test_suite_json_loads_back_and_renders_the_same_html(tmp_path):
    path = tmp_path / "suite.json"
    assert main(["check", BUGGY, "--mode", "directional", "--json", str(path)]) == 1
    saved = json.loads(path.read_text())
    suite = SuiteResult.from_dict(saved)
    assert suite.to_dict() == saved
    fresh = SuiteResult.from_dict(json.loads(json.dumps(saved)))
    page = render_html(suite)  # drawing the charts is most of a render: draw this page once
    assert render_html(fresh) == page


def test_every_gradient_check_gets_a_table():
    loaded = load_target(BUGGY, CheckConfig(mode="directional"))
    suite = run_suite(loaded.target, CheckConfig(mode="directional"), groups=("gradients",),
                      **loaded.engine_arguments())
    html = render_html(suite)
    assert html.count('class="gradient-table"') == len(suite.outcomes) == 3


def test_suite_json_of_another_kind_is_refused():
    with pytest.raises(InvalidArgumentError, match="kind 'suite'"):
        SuiteResult.from_dict({"format_version": 1, "kind": "report"})


def _net(**extra):
    from reference_net.network import build_mlp

    net = build_mlp((6, 5, 4), seed=0)
    for name, value in extra.items():
        setattr(net, name, value)
    return net


def test_checks_are_chosen_by_what_the_target_offers():
    plain = {c.name for c in iter_checks(_net(), mode="directional")}
    assert "check_cross_entropy_from_logits_stable" not in plain
    loss = _net(cross_entropy_from_logits=lambda Z, y: 0.0)
    with_loss = {c.name for c in iter_checks(loss, mode="directional")}
    assert with_loss - plain == {"check_cross_entropy_from_logits_stable"}
    assert "check_layer1_dense" in plain
    assert "check_precision_float32" not in plain
    built = {c.name for c in iter_checks(_net(), build=lambda dt: _net(), mode="directional")}
    assert built - plain == {"check_precision_float32"}


def test_groups_select_and_config_reaches_every_gradient_check():
    config = CheckConfig(mode="sample", samples=2, seed=4)
    suite = run_suite(_net(), config, groups=("gradients",),
                      select=lambda check: check.name.startswith("check_gradients"))
    assert {o.group for o in suite.outcomes} == {"gradients"}
    assert [o.name for o in suite.outcomes] == ["check_gradients_batch1", "check_gradients_batch8",
                                                "check_gradients_batch_missing_classes"]
    for outcome in suite.outcomes:
        assert outcome.result.mode == "sample" and outcome.result.seed == 4
        assert all(p.n_checked <= 2 for p in outcome.result.params)


def test_a_check_that_cannot_run_is_an_error_outcome():
    suite = run_suite(_net(), max_seconds=1e-9, groups=("gradients",),
                      select=lambda check: check.name == "check_gradients_batch1")
    [outcome] = suite.outcomes
    assert outcome.status == "error" and not suite.passed
    assert "would take about" in outcome.error
    assert SuiteResult.from_dict(suite.to_dict()).outcomes[0].error == outcome.error


@pytest.mark.parametrize("options, argument, excerpt", [
    ({"mode": "fast"}, "mode", "got 'fast'"),
    ({"batch_size": 0}, "batch_size", "got 0, expected a positive integer"),
    ({"batch_size": True}, "batch_size", "got True"),
    ({"seed": -1}, "seed", "non-negative integer"),
    ({"dtype": "float16"}, "dtype", "expected float32 or float64"),
    ({"max_seconds": 0}, "max_seconds", "positive number"),
    ({"threads": 2}, "options", "unknown options ['threads']"),
])
def test_config_is_validated_once_with_the_argument_named(options, argument, excerpt):
    with pytest.raises(InvalidArgumentError) as info:
        CheckConfig.from_options(options)
    assert info.value.argument == argument and excerpt in str(info.value)


def test_config_dtype_is_normalised_and_replace_validates_again():
    config = CheckConfig(dtype=np.float32)
    assert config.dtype == "float32"
    with pytest.raises(InvalidArgumentError):
        config.replace(samples=0)


def test_front_ends_name_the_flag_of_a_bad_option(tmp_path):
    outcome = run_cli(["check", BUGGY, "--directions", "0"])
    assert outcome.code == 2 and "--directions: got 0, expected a positive integer" in outcome.stderr
    result = run_pytest(tmp_path, [f"--gradcheck-target={BUGGY}", "--gradcheck-directions=0"])
    assert result.code == 4 and "--gradcheck-directions: got 0" in result.output


def _dense_layer_check(extra_dW=0.0, extra_dX=0.0):
    """check_layer of Y = X @ W whose backward adds extra_dW * W to dW and extra_dX * X to dX."""
    from gradcheck import check_layer

    rng = np.random.default_rng(0)
    X, W = rng.normal(size=(5, 3)), rng.normal(size=(3, 2))
    return check_layer(lambda X_: X_ @ W,
                       lambda dY: (dY @ W.T + extra_dX * X, {"W": X.T @ dY + extra_dW * W}), X, {"W": W})


def _passing_network_result():
    from gradcheck import check_gradients

    w = np.array([1.0, -2.0])
    return check_gradients(lambda: float(w @ w), {"w": w}, lambda: {"w": 2.0 * w})


def test_a_stored_l2_term_is_excused_only_when_the_network_agrees():
    from gradcheck.checks.pipeline import excuse_extra_terms

    layer = _dense_layer_check(extra_dW=0.02)
    assert not layer.passed
    excused = excuse_extra_terms(layer, _passing_network_result())
    assert excused.passed
    assert {f.severity for f in excused["W"].findings} == {"warning", "info"}
    said = [f for f in excused["W"].findings if f.severity == "info"]
    assert len(said) == 1 and "an L2 penalty" in said[0].message and said[0].data["outside_the_layer"]


def test_a_wrong_input_gradient_is_never_excused():
    from gradcheck.checks.pipeline import excuse_extra_terms

    layer = excuse_extra_terms(_dense_layer_check(extra_dX=0.5), _passing_network_result())
    assert not layer.passed and layer.failed == ["input"]


def test_a_keyword_call_of_the_python_api_makes_its_config_once(monkeypatch):
    """run_suite(target, mode=..., seed=...) validates its options once, not once per stage."""
    from reference_net.network import build_mlp

    made = []
    original = CheckConfig.__post_init__
    monkeypatch.setattr(CheckConfig, "__post_init__", lambda self: (made.append(1), original(self))[1])
    suite = run_suite(build_mlp((6, 5, 3), seed=0), groups=("gradients",), mode="directional", seed=1)
    assert suite.config["mode"] == "directional" and len(made) == 1
