"""A layer's parameters are found by value, whatever their names: every float array it holds that
a forward leaves alone and its backward gives a gradient for. The layer check then checks each of
them, in this process and out of it, and a transposed weight gradient fails it."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradcheck import check_layer, run_suite
from gradcheck.targets import layer_params
from gradcheck.targets.layers import LayerView
from tests.targets.layer_naming import LAYERS, AttributeDense, N, network

KINDS = list(LAYERS)
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _x(n=3, seed=1):
    return np.random.default_rng(seed).standard_normal((n, N))


def _layer_check(layer):
    view = LayerView("layer", layer)
    X = _x()
    view.learn(X)
    return check_layer(view.forward, view.backward, X, view.params, param_grads=view.param_grads)


@pytest.mark.parametrize("kind", KINDS)
def test_every_parameter_is_found_and_caches_are_not(kind):
    build, names, _ = LAYERS[kind]
    view = LayerView("layer", build(np.random.default_rng(0), False))
    view.learn(_x())
    assert set(view.params) == names  # not X, Z, dZ, cache: a forward rewrites them


@pytest.mark.parametrize("kind", KINDS)
def test_a_correct_layer_passes_its_check_with_every_parameter_checked(kind):
    build, names, _ = LAYERS[kind]
    result = _layer_check(build(np.random.default_rng(0), False))
    assert result.passed, str(result)
    assert {p.name for p in result.params} == names | {"input"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_transposed_weight_gradient_fails_the_layer_check(kind):
    build, _, weight = LAYERS[kind]
    result = _layer_check(build(np.random.default_rng(0), True))
    assert result.failed == [weight], str(result)


@pytest.mark.parametrize("kind", KINDS)
def test_the_network_and_its_layer_checks_fail_the_transposed_weight(kind):
    suite = run_suite(network(kind, bug=True), groups=("gradients",))
    failed = {o.name for o in suite.outcomes if o.status == "failed"}
    assert "check_layer1_attributedense" in failed or "check_layer1_dictdense" in failed \
        or "check_layer1_recurrentstep" in failed, failed
    assert "check_layer3_" + type(network(kind).layers[2].layer).__name__.lower() not in failed


def test_a_gradient_of_the_wrong_shape_is_reported_not_skipped():
    class SummedBias(AttributeDense):
        def backward(self, dY):
            dX = super().backward(dY)
            self.db = dY.sum()  # a NumPy number where b is (N,)
            return dX

    view = LayerView("layer", SummedBias(np.random.default_rng(0)))
    view.learn(_x())
    assert set(view.params) == {"w", "b"}
    assert np.shape(view.param_grads()["b"]) == ()


def test_the_gradient_spellings_pair_a_name_with_its_gradient():
    class Holder:
        pass

    layer = Holder()
    layer.kernel, layer.dKernel, layer.inputs, layer.dinputs = (np.full(2, v) for v in (1.0, 2.0, 3.0, 4.0))
    found = layer_params.parameters(layer, exclude=(layer.inputs,))
    assert {name: pair[1] for name, pair in found.items()} == {"kernel": ("dKernel",)}


def test_learning_leaves_the_programs_random_draws_as_they_were():
    class Dropout(AttributeDense):
        def forward(self, X):
            return super().forward(X) * (np.random.rand(*X.shape) > 0.5)  # noqa: NPY002

    np.random.seed(5)  # noqa: NPY002
    expected = np.random.rand()  # noqa: NPY002
    np.random.seed(5)  # noqa: NPY002
    LayerView("layer", Dropout(np.random.default_rng(0))).learn(_x())
    assert np.random.rand() == expected  # noqa: NPY002


@pytest.mark.parametrize("name, layer, weight", [
    ("w_b_transposed", "check_layer1_attributedense", "w"),
    ("kernel_bias_transposed", "check_layer1_attributedense", "kernel"),
    ("params_grads_transposed", "check_layer1_dictdense", "w"),
])
def test_out_of_process_the_layer_check_finds_and_fails_the_weight(tmp_path, name, layer, weight):
    out = tmp_path / "report.json"
    subprocess.run([sys.executable, "-m", "gradcheck", "check", f"{HERE / 'layer_naming.py'}:{name}",
                    "--json", str(out)], cwd=ROOT, capture_output=True, check=False, timeout=600,
                   env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    report = json.loads(out.read_text())
    [check] = [c for c in report["checks"] if c["name"] == layer]
    params = {p["name"]: p for p in check["result"]["params"]}
    assert set(params) >= {weight, "input"}
    assert check["status"] == "failed" and not params[weight]["passed"]
