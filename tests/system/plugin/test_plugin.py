"""The pytest plugin, driven through pytest's own pytester."""

import html as html_lib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
BUGGY = f"{EXAMPLES / 'blog_buggy.py'}:target"
FIXED = f"{EXAMPLES / 'blog_fixed.py'}:target"


def test_fixed_network_passes_every_check(pytester):
    result = pytester.runpytest("--gradcheck-target", FIXED, "--gradcheck-mode", "directional", "-v")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["*check_gradients_batch1 PASSED*",
                                 "*check_gradients_batch_missing_classes PASSED*"])


def test_buggy_network_fails_with_the_diagnosis(pytester):
    result = pytester.runpytest("--gradcheck-target", BUGGY, "--gradcheck-mode", "directional")
    # three gradient checks, the naive softmax, db1 summed to a scalar, raw pixels in the input scale
    result.assert_outcomes(failed=6, passed=4)
    result.stdout.fnmatch_lines([
        "*(reduction)*",
        "*gradients: raised ValueError: operands could not be broadcast*blog_buggy.py:*(exception)*",
        "*Line * of blog_buggy.py, in backward_propagation(): dZ_2 = A_2 - one_hot_y*"
        " arrays there: A_2 (10, 20), one_hot_y (8, 20).",
        "*b1: db1 is a single number (shape ()) but b1 has shape (10, 1)*reduced over every axis*",
    ])
    assert "Traceback" not in result.stdout.str()


def test_k_selects_one_check_and_xfail_by_name(pytester):
    result = pytester.runpytest("--gradcheck-target", BUGGY, "--gradcheck-mode", "directional",
                                "-k", "missing_classes",
                                "--gradcheck-xfail", "check_gradients_batch_missing_classes")
    result.assert_outcomes(xfailed=1, deselected=9)


def test_environment_variable_selects_the_target(pytester, monkeypatch):
    monkeypatch.setenv("GRADCHECK_TARGET", FIXED)
    result = pytester.runpytest("--gradcheck-mode", "directional")
    result.assert_outcomes(passed=10)


def test_unloadable_target_is_one_failing_item(pytester):
    result = pytester.runpytest("--gradcheck-target", "no_such_module_abc:target")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*could not be loaded: no module named 'no_such_module_abc'*"])


def test_no_target_adds_nothing(pytester):
    pytester.makepyfile("def test_plain():\n    assert True\n")
    pytester.runpytest().assert_outcomes(passed=1)


def test_parametrize_with_checks_decorator(pytester):
    pytester.makepyfile(f"""
        import runpy
        from gradcheck.pytest_plugin import parametrize_with_checks

        buggy = runpy.run_path({str(EXAMPLES / 'blog_buggy.py')!r})["target"]

        @parametrize_with_checks(buggy, mode="directional",
                                 xfail={{"check_gradients_batch1": "known: one-hot of one label"}})
        def test_student(check):
            check()
    """)
    result = pytester.runpytest("-v")
    result.assert_outcomes(xfailed=1, failed=5, passed=4)
    result.stdout.fnmatch_lines(["*test_student?check_gradients_batch1? XFAIL*"])


@pytest.mark.slow
def test_runs_under_xdist(pytester):
    pytest.importorskip("xdist")
    result = pytester.runpytest_subprocess("-n", "2", "--gradcheck-target", FIXED,
                                           "--gradcheck-mode", "directional")
    result.assert_outcomes(passed=10)


def test_reference_network_factory_gets_layer_checks(pytester):
    result = pytester.runpytest("--gradcheck-target", "reference_net.network:build_mlp", "-v",
                                "--gradcheck-mode", "directional")
    result.assert_outcomes(passed=15)
    result.stdout.fnmatch_lines(["*check_layer1_dense PASSED*", "*check_layer2_relu PASSED*",
                                 "*check_softmax_stable PASSED*", "*check_sigmoid_stable PASSED*",
                                 "*check_shapes_any_batch_size PASSED*",
                                 "*check_loss_example_order PASSED*",
                                 "*check_training_input_scale PASSED*",
                                 "*check_precision_float32 PASSED*"])


def test_a_broken_layer_is_named_by_its_layer_check():
    import runpy

    import numpy as np

    from gradcheck import adapters
    from gradcheck.engine import ConformanceFailure, iter_checks

    build = runpy.run_path(str(EXAMPLES / "_nnfs_style.py"))["build"]
    layers, loss = build()
    dense2 = layers[2]
    correct_backward = dense2.backward

    def bias_summed_over_everything(dvalues):
        correct_backward(dvalues)
        dense2.dbiases = np.full_like(dense2.dbiases, np.sum(dvalues))

    dense2.backward = bias_summed_over_everything
    checks = {c.name: c for c in iter_checks(adapters.layer_objects(layers, loss))}
    checks["check_layer1_layerdense"]()
    with pytest.raises(ConformanceFailure, match=r"(?s)check_layer3_layerdense.*\(reduction\)"):
        checks["check_layer3_layerdense"]()


def test_softmax_probe_joins_the_suite_when_the_target_has_softmax(pytester):
    pytester.makepyfile(broken="""
        import numpy as np
        from reference_net.network import build_mlp

        def make():
            net = build_mlp((6, 5, 4), seed=0)
            net.softmax = lambda Z: np.exp(Z) / np.sum(np.exp(Z), axis=-1, keepdims=True)
            return net
    """)
    result = pytester.runpytest("--gradcheck-target", "broken.py:make", "-k", "softmax")
    result.assert_outcomes(failed=1, deselected=13)
    result.stdout.fnmatch_lines(["*check_softmax_stable*", "*logits of magnitude 711*(nonfinite)*"])


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["in_process", "xdist"])
def test_html_report_collects_every_check(pytester, workers):
    if workers:
        pytest.importorskip("xdist")
    page = pytester.path / "out" / "suite.html"
    result = pytester.runpytest_subprocess(*workers, "--gradcheck-target", BUGGY, "--gradcheck-mode",
                                           "directional", f"--gradcheck-html={page}")
    result.assert_outcomes(failed=6, passed=4)
    html = page.read_text(encoding="utf-8")
    assert '<span class="word">FAILED</span>' in html
    # every gradient check has its own table, and the page's verdict is the terminal's last line
    assert html.count('class="gradient-table"') == 3
    for check in ("check_gradients_batch1", "check_gradients_batch20",
                  "check_gradients_batch_missing_classes"):
        assert f'id="check-{check}"' in html
    headline = next(line for line in result.stdout.lines if line.startswith("gradcheck: FAILED"))
    assert headline.startswith("gradcheck: FAILED: wrong gradient for W1, b1, W2, b2 (")
    reason = headline.split(": ", 2)[2]
    assert html_lib.escape(reason, quote=False) in html
    for probe in ("check_softmax_stable", "check_training_input_scale",
                  "check_training_gradient_flow"):
        assert probe in html


JITTERY = '''
import numpy as np

class Jittery:
    """A correct linear softmax network whose loss adds fresh noise: example order cannot be judged."""

    def __init__(self):
        self.W = np.random.default_rng(0).normal(size=(4, 3)) * 0.1
        self.rng = np.random.default_rng(1)

    @property
    def params(self):
        return {"W": self.W}

    def forward(self, X):
        return X @ self.W

    def loss(self, X, y):
        Z = X @ self.W
        Z = Z - Z.max(axis=1, keepdims=True)
        P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
        return float(-np.mean(np.log(P[np.arange(len(y)), y])) + 1e-3 * self.rng.normal())

    def gradients(self, X, y):
        Z = X @ self.W
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        P[np.arange(len(y)), y] -= 1
        return {"W": X.T @ P / len(y)}

target = Jittery()
'''


def test_a_check_that_cannot_judge_the_target_is_skipped_with_the_reason(pytester):
    path = pytester.makepyfile(jittery=JITTERY)
    result = pytester.runpytest("--gradcheck-target", f"{path}:target", "-k", "example_order", "-rs")
    result.assert_outcomes(skipped=1, deselected=result.parseoutcomes()["deselected"])
    result.stdout.fnmatch_lines(["*SKIPPED*the loss is not repeatable on the same batch*"])


def test_parametrize_with_checks_skips_what_cannot_be_judged(pytester):
    pytester.makepyfile(jittery=JITTERY)
    pytester.makepyfile(test_jittery="""
        from gradcheck.pytest_plugin import parametrize_with_checks
        from jittery import target

        @parametrize_with_checks(target)
        def test_net(check):
            check()
    """)
    result = pytester.runpytest("-k", "example_order", "-rs")
    result.assert_outcomes(skipped=1, deselected=result.parseoutcomes()["deselected"])
    result.stdout.fnmatch_lines(["*SKIPPED*the loss is not repeatable on the same batch*"])
