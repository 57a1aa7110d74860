"""The published coding styles the adapters fit, each with a correct and a buggy network.

Correct networks must pass through the adapter at every batch size and seed (a false alarm is
the worst bug); buggy ones must be flagged on the parameter the bug is in, by the command line
as a user runs it.
"""

import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradcheck import InvalidArgumentError, ProtocolError, adapters, check_gradients
from gradcheck.engine import check_target_gradients

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BOOK = runpy.run_path(str(EXAMPLES / "_book_model_style.py"))
LIBRARY = runpy.run_path(str(EXAMPLES / "_layer_library_style.py"))
NIELSEN = runpy.run_path(str(EXAMPLES / "_nielsen_cost_style.py"))


def batch(n_inputs, n, seed, *, columns=False, dtype=np.float64, n_classes=10):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, n_inputs)).astype(dtype)
    y = rng.permutation(np.arange(n) % n_classes)
    return (np.ascontiguousarray(X.T) if columns else X), y


def check(target, X, y, **options):
    return check_gradients(lambda: target.loss(X, y), target.params, lambda: target.gradients(X, y),
                           batch_size=len(y), **options)


def book_model(**kw):
    return adapters.model(BOOK["build"](**kw))


def library(dtype=np.float64, **kw):
    layers, loss = LIBRARY["build"](**kw)
    return adapters.layer_objects(layers, loss, n_inputs=20, dtype=dtype)


def nielsen(**kw):
    return adapters.per_sample(NIELSEN["Network"]([20, 12, 10], **kw))


STYLES = [
    ("model_object", book_model, False, np.float64),
    ("layer_library", library, False, np.float64),
    ("layer_library_float32", lambda: library(np.float32), False, np.float32),
    ("per_sample_cost", nielsen, True, np.float64),
    ("per_sample_quadratic", lambda: nielsen(cost=NIELSEN["QuadraticCost"]), True, np.float64),
]


@pytest.mark.parametrize("n", [1, 7, 32])
@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize(("make", "columns", "dtype"), [s[1:] for s in STYLES], ids=[s[0] for s in STYLES])
def test_correct_style_passes_at_any_batch_size_and_seed(make, columns, dtype, n, seed):
    target = make()
    before = {name: arr.copy() for name, arr in target.params.items()}
    X, y = batch(20, n, seed, columns=columns, dtype=dtype)
    result = check(target, X, y, seed=seed)
    assert result.passed, str(result)
    for name, arr in target.params.items():
        np.testing.assert_array_equal(arr, before[name])


# -- the command line, as a user runs it --------------------------------------------------------
CLI = [
    ("check", "model_object_correct", 0, []),
    ("check", "model_object_buggy", 1, ["W1", "W2"]),
    ("check", "layer_library_correct", 0, []),
    ("check", "layer_library_buggy", 1, ["b1", "b2"]),
    ("check", "per_sample_cost_correct", 0, []),
    ("check", "per_sample_cost_buggy", 1, ["W1", "b1", "W2", "b2"]),
    ("check", "per_sample_shapes_buggy", 1, ["W1", "b1", "W2", "b2"]),
    ("probe", "model_object_correct", 0, []),
    ("probe", "layer_library_correct", 0, []),
    ("probe", "per_sample_cost_correct", 0, []),
    ("probe", "per_sample_correct", 0, []),  # its naive sigmoid overflows at x255: a warning
    ("probe", "per_sample_shapes_buggy", 1, ["W1"]),
]


@pytest.mark.parametrize(("command", "example", "code", "named"), CLI, ids=[f"{c}-{e}" for c, e, _, _ in CLI])
def test_command_line_verdict(command, example, code, named):
    run = subprocess.run([sys.executable, "-m", "gradcheck", command, f"{EXAMPLES / example}.py:target"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == code, run.stdout + run.stderr
    failed = [line for line in run.stdout.splitlines() if line.lstrip().startswith("!!")]
    for name in named:
        assert any(line.lstrip().startswith(f"!! {name}") for line in failed), run.stdout
    if code == 0:
        assert not failed, run.stdout


def test_layer_library_float32_through_the_command_line():
    run = subprocess.run([sys.executable, "-m", "gradcheck", "check", "--dtype", "float32",
                          f"{EXAMPLES / 'layer_library_correct'}.py:target"], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


# -- model objects -------------------------------------------------------------------------------
def test_model_layers_are_called_with_training_false():
    model = BOOK["build"]()
    seen = []
    dense = model.layers[0]
    original = dense.forward
    dense.forward = lambda inputs, training: (seen.append(training), original(inputs, training))[1]
    target = adapters.model(model)
    X, y = batch(20, 5, 0)
    target.loss(X, y)
    target.gradients(X, y)
    assert seen and not any(seen)


@pytest.mark.parametrize("combined", [True, False], ids=["combined-backward-only", "softmax-then-loss"])
def test_model_without_its_own_backward_is_backpropagated_layer_by_layer(combined):
    model = BOOK["build"]()
    model.backward = None  # no backward of its own: the adapter chains the layers
    if not combined:
        model.softmax_output = None
    X, y = batch(20, 9, 1)
    assert check(adapters.model(model), X, y).passed


def test_model_loss_includes_the_regularisation_held_on_the_layers():
    model = BOOK["build"]()
    X, y = batch(20, 8, 0)
    target = adapters.model(model)
    expected = model.loss.calculate(model.forward(X, training=False), y) + model.regularization_loss()
    assert target.loss(X, y) == pytest.approx(expected, rel=1e-12)
    # the layers' backward adds the L2 gradient: without the term in the loss, W is reported wrong
    forgetful = adapters.layer_objects(model.layers, model.loss, regularization=lambda: 0.0)
    assert sorted(check(forgetful, X, y).failed) == ["W1", "W2"]


def test_regularisation_no_loss_adds_is_checked_anyway_and_named_in_the_codes_words():
    """Layers holding L2 strengths whose backward adds 2 * l2 * W, handed over with a loss that
    has no regularisation loss: not refused; the check says the backward adds a term the loss
    does not contain, where the strength is held."""
    model = BOOK["build"]()
    target = adapters.layer_objects(model.layers, model.loss)
    assert ("W1", "l2", 0.01, "layers[0].weight_regularizer_l2") in target.penalties
    assert ("b1", "l2", 0.01, "layers[0].bias_regularizer_l2") in target.penalties
    X, y = batch(20, 8, 0)
    result = check_target_gradients(target, X, y)
    assert sorted(result.failed) == ["W1", "W2"]  # b1 starts at 0, so does its L2 gradient
    message = result["W1"].findings[0].message
    assert "your backward adds 2·0.01·W1" in message and "that your loss does not contain" in message
    assert "layers[0].weight_regularizer_l2 = 0.01" in message


@pytest.mark.parametrize(("make", "words"), [
    (lambda: adapters.model(object()), "has no non-empty `layers` list"),
    (lambda: adapters.model(type("M", (), {"layers": [object()], "loss": None})()), "holds no loss object"),
    (lambda: adapters.layer_objects([object()], object()), "has no forward/backward"),
    (lambda: adapters.layer_objects(LIBRARY["build"]()[0], LIBRARY["CrossEntropy"]()), "pass n_inputs="),
    (lambda: adapters.layer_objects(*LIBRARY["build"](), n_inputs=0), "expected a positive integer"),
    (lambda: adapters.layer_objects(*LIBRARY["build"](), n_inputs=4, loss_gradient="input"),
     "expected 'output' or 'logits'"),
], ids=["model-no-layers", "model-no-loss", "layer-not-a-layer", "lazy-without-n-inputs", "n-inputs-zero",
        "loss-gradient-unknown"])
def test_layer_adapters_bad_input(make, words):
    with pytest.raises((InvalidArgumentError, ProtocolError), match=words):
        make()


# -- layer libraries -----------------------------------------------------------------------------
def test_library_lazy_parameters_are_created_and_live():
    layers, loss = LIBRARY["build"]()
    target = adapters.layer_objects(layers, loss, n_inputs=20)
    assert target.params["W1"] is layers[0].parameters["W"] and target.params["W1"].shape == (20, 16)
    assert target.params["b2"] is layers[2].parameters["b"]


def test_library_history_does_not_grow_and_accumulation_is_undone():
    layers, loss = LIBRARY["build"]()
    target = adapters.layer_objects(layers, loss, n_inputs=20)
    X, y = batch(20, 6, 0)
    first = target.gradients(X, y)
    for _ in range(5):
        target.loss(X, y)
    again = target.gradients(X, y)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
    assert all(len(layer.X) <= 1 for layer in layers)


def test_library_sum_loss_is_reported_as_a_mean():
    layers, loss = LIBRARY["build"]()
    target = adapters.layer_objects(layers, loss, n_inputs=20)
    X, y = batch(20, 6, 0)
    out = X
    for layer in layers:
        out = layer.forward(out)
    Y = np.eye(10)[y]
    assert target.loss(X, y) == pytest.approx(loss.loss(Y, out) / 6, rel=1e-12)


def test_library_gradient_with_respect_to_logits_is_found():
    X, y = batch(20, 6, 0)
    assert check(library(), X, y).passed
    layers, loss = LIBRARY["build"]()
    told_wrong = adapters.layer_objects(layers, loss, n_inputs=20, loss_gradient="output")
    assert not check(told_wrong, X, y).passed


# -- per-sample ----------------------------------------------------------------------------------
def test_per_sample_uses_the_networks_cost_object():
    net = NIELSEN["Network"]([20, 12, 10])
    target = adapters.per_sample(net)
    X, y = batch(20, 5, 0, columns=True)
    Y = np.eye(10)[y].T
    expected = NIELSEN["CrossEntropyCost"].fn(net.feedforward(X), Y) / 5
    assert target.loss(X, y) == pytest.approx(expected, rel=1e-12)
    quadratic = adapters.per_sample(net, cost=lambda a, y: 0.5 * np.sum((a - y) ** 2))
    assert quadratic.loss(X, y) == pytest.approx(0.5 * np.sum((net.feedforward(X) - Y) ** 2) / 5, rel=1e-12)


def test_per_sample_loss_is_one_call_when_feedforward_takes_batches():
    net = NIELSEN["Network"]([20, 12, 10])
    target = adapters.per_sample(net)
    X, y = batch(20, 16, 0, columns=True)
    target.loss(X[:, :1], y[:1])  # a batch of one cannot tell
    target.loss(X, y)  # the first batch of several finds out
    calls = []
    feedforward = net.feedforward
    net.feedforward = lambda a: (calls.append(a.shape), feedforward(a))[1]
    target.loss(X, y)
    assert calls == [(20, 16)]


def test_per_sample_feedforward_of_one_column_only_is_still_exact():
    net = NIELSEN["Network"]([20, 12, 10])
    feedforward = net.feedforward

    def one_column(a):
        if a.shape[1] != 1:
            raise ValueError("one example at a time")
        return feedforward(a)

    net.feedforward = one_column
    X, y = batch(20, 6, 2, columns=True)
    assert check(adapters.per_sample(net), X, y).passed


def test_per_sample_shapes_that_change_between_examples_are_one_line():
    net = NIELSEN["Network"]([20, 12, 10])
    backprop = net.backprop
    count = []

    def changing(x, y):
        nabla_b, nabla_w = backprop(x, y)
        count.append(1)
        if len(count) == 2:
            nabla_w[0] = nabla_w[0].T
        return nabla_b, nabla_w

    net.backprop = changing
    X, y = batch(20, 3, 0, columns=True)
    with pytest.raises(ProtocolError, match=r"nabla_w\[0\] of shape \(20, 12\) for example 1 but \(12, 20\)"):
        adapters.per_sample(net).gradients(X, y)


@pytest.mark.parametrize(("result", "words"), [
    (None, "returned NoneType, expected \\(nabla_b, nabla_w\\)"),
    (([0.0], [0.0]), "nabla_b with 1 entries, expected a list of 2"),
], ids=["none", "too-few-layers"])
def test_per_sample_backprop_of_the_wrong_form_is_one_line(result, words):
    net = NIELSEN["Network"]([20, 12, 10])
    net.backprop = lambda x, y: result
    X, y = batch(20, 2, 0, columns=True)
    with pytest.raises(ProtocolError, match=words):
        adapters.per_sample(net).gradients(X, y)


def test_per_sample_no_longer_takes_an_unused_option():
    with pytest.raises(TypeError, match="cost_derivative_is_quadratic"):
        adapters.per_sample(NIELSEN["Network"]([4, 3, 2]), cost_derivative_is_quadratic=False)


def test_per_sample_cost_that_is_not_a_function_is_named():
    net = NIELSEN["Network"]([4, 3, 2])
    net.cost = 0.25
    with pytest.raises(InvalidArgumentError, match="network.cost: got float"):
        adapters.per_sample(net)
