"""Function-pair layers: the pairs found by name, the arguments sorted into checked and fixed, the
backward's gradients named after the forward's arguments, and clear words when they do not fit."""

from __future__ import annotations

import types

import numpy as np
import pytest

import gradcheck
from gradcheck.adapters import function_layer, function_layers
from gradcheck.adapters.function_pairs import (
    discover,
    find_layer,
    layer_name,
    layers_in,
    make_layer,
    returned_names,
)
from gradcheck.adapters.layer_examples import KINDS, default_arguments, expected_arguments, kind_of
from gradcheck.adapters.layer_problem import LayerProblem, upstream_count
from gradcheck.errors import InvalidArgumentError
from tests.corpus.layers import course_layers, dict_style
from tests.corpus.layers.catalogue import LAYERS

COURSE = ["affine", "relu", "conv", "max_pool", "batchnorm", "spatial_batchnorm", "layernorm",
          "dropout", "softmax_loss", "svm_loss", "rnn_step", "rnn", "lstm_step", "lstm",
          "word_embedding", "temporal_affine", "temporal_softmax_loss"]


def namespace(**functions):
    module = types.ModuleType("layers_under_test")
    for name, function in functions.items():
        function.__module__ = module.__name__
        setattr(module, name, function)
    return module


def test_every_pair_and_loss_of_a_course_module_is_found_in_its_order():
    assert [layer.name for layer in discover(course_layers)] == COURSE
    assert [layer.name for layer in discover(dict_style)] == ["rnn_cell", "lstm_cell"]
    conv = find_layer(course_layers, "conv")
    assert (conv.forward, conv.backward) == (course_layers.conv_forward_naive, course_layers.conv_backward_naive)
    assert find_layer(course_layers, "conv_forward_naive") == conv
    assert find_layer(course_layers, "softmax_loss").is_loss
    assert find_layer(course_layers, "np") is None


@pytest.mark.parametrize(("forward", "name"), [
    ("conv_forward_naive", "conv"), ("rnn_step_forward", "rnn_step"), ("affine_forward", "affine"),
    ("conv_forward_fast", "conv"), ("softmax_loss", "softmax_loss"),
])
def test_a_layer_is_named_after_its_forward(forward, name):
    assert layer_name(forward) == name


@pytest.mark.parametrize(("name", "kind"), [
    ("conv_naive", "conv"), ("batch_norm", "batchnorm"), ("spatial_batch_norm", "spatial_batchnorm"),
    ("maxpool", "max_pool"), ("embedding", "word_embedding"), ("sigmoid", "sigmoid"),
])
def test_a_kind_is_known_by_its_usual_spellings(name, kind):
    assert kind_of(name) == kind


def test_a_naive_and_a_fast_version_are_two_layers():
    def conv_forward_naive(x, w, b, conv_param): ...
    def conv_backward_naive(dout, cache): ...
    def conv_forward_fast(x, w, b, conv_param): ...
    def conv_backward_fast(dout, cache): ...
    found = discover(namespace(conv_forward_naive=conv_forward_naive, conv_backward_naive=conv_backward_naive,
                               conv_forward_fast=conv_forward_fast, conv_backward_fast=conv_backward_fast))
    assert [layer.name for layer in found] == ["conv", "conv_fast"]


def test_a_factory_named_like_a_loss_is_not_a_loss_layer():
    def make_loss():
        return None
    assert discover(namespace(make_loss=make_loss)) == []
    assert find_layer(namespace(make_loss=make_loss), "make_loss") is None


def test_a_layers_list_names_layers_and_a_wrong_name_gets_the_layers_there():
    module = types.SimpleNamespace(**vars(course_layers))
    module.LAYERS = ["affine", "conv_forward_naive", "softmax_loss"]
    assert [layer.name for layer in layers_in(module, "LAYERS").function_layers] == ["affine", "conv", "softmax_loss"]
    assert [layer.name for layer in layers_in(module, "target", default=True).function_layers] == [
        "affine", "conv", "softmax_loss"]
    module.LAYERS = ["affine", "batch_norm"]
    with pytest.raises(InvalidArgumentError, match=r"lists 'batch_norm', which names no layer of the file; "
                       r"did you mean 'batchnorm'\?"):
        layers_in(module, "LAYERS")


def test_a_file_without_layers_says_so():
    with pytest.raises(InvalidArgumentError, match="defines no function-pair layers"):
        layers_in(namespace(), "*")


def test_function_layers_of_a_module_is_every_layer_or_the_ones_named():
    assert len(function_layers(course_layers).function_layers) == len(COURSE)
    assert [layer.name for layer in function_layers(course_layers, "rnn", "lstm").function_layers] == ["rnn", "lstm"]


def test_arguments_given_positionally_are_named_after_the_forwards():
    x, w, b = np.ones((2, 3)), np.ones((3, 4)), np.ones(4)
    layer = function_layer(course_layers.affine_forward, course_layers.affine_backward, x, w, b).function_layers[0]
    assert list(layer.arguments()) == ["x", "w", "b"] and layer.arguments()["w"] is w
    with pytest.raises(InvalidArgumentError, match=r"got 2 arguments for affine_forward\(x, w, b\)"):
        make_layer(course_layers.affine_forward, course_layers.affine_backward, [x, w])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_known_kind_has_example_arguments_in_the_dtype_asked_for(kind):
    names = list(LAYERS[kind].example_args(0, np.float64)) if kind in LAYERS else expected_arguments(kind)
    for dtype in (np.float64, np.float32):
        args = default_arguments(kind, names, seed=0, dtype=dtype)
        assert list(args) == names
        floats = [v for v in args.values() if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
        floats += [a for v in args.values() if isinstance(v, dict) for a in v.values() if isinstance(a, np.ndarray)]
        assert floats and all(a.dtype == dtype for a in floats)


def test_a_forward_that_takes_other_arguments_than_its_kind_asks_for_them():
    def affine_forward(x, w):
        return x @ w, (x, w)
    layer = make_layer(affine_forward, course_layers.affine_backward)
    with pytest.raises(InvalidArgumentError, match=r"a affine layer gets \(x, w, b\), but affine_forward "
                       r"takes \(x, w\).*function_layer\(affine_forward, affine_backward, x, w\)"):
        layer.arguments()
    def gate_forward(x, w, u):
        return x, None
    with pytest.raises(InvalidArgumentError, match="no example arguments for a layer named 'gate'"):
        make_layer(gate_forward, course_layers.relu_backward).arguments()
    def sigmoid_forward(x):
        return 1 / (1 + np.exp(-x)), x
    assert make_layer(sigmoid_forward, course_layers.relu_backward).arguments()["x"].shape == (4, 5)


def _problem(kind):
    layer = find_layer(course_layers, kind) or find_layer(dict_style, kind)
    return LayerProblem(layer, layer.arguments(seed=0), seed=0)


@pytest.mark.parametrize(("kind", "checked", "fixed"), [
    ("word_embedding", ["W"], {"x": "integer indices"}),
    ("temporal_softmax_loss", ["x"], {"y": "integer indices", "mask": "a mask"}),
    ("batchnorm", ["x", "gamma", "beta"], {"bn_param": "settings"}),
    ("conv", ["x", "w", "b"], {"conv_param": "settings"}),
    ("rnn_cell", ["xt", "a_prev"], {"parameters": "settings"}),
])
def test_float_arrays_are_checked_and_indices_masks_and_settings_fixed(kind, checked, fixed):
    problem = _problem(kind)
    assert list(problem.params) == checked and problem.fixed == fixed


def test_a_float_mask_and_arguments_named_fixed_are_not_checked():
    def masked_forward(x, w, mask):
        return (x @ w) * mask, (x, w, mask)
    rng = np.random.default_rng(0)
    x, w, mask = rng.normal(size=(3, 2)), rng.normal(size=(2, 4)), (rng.random((3, 4)) > 0.5).astype(float)
    layer = make_layer(masked_forward, None, [x, w, mask], fixed=["w"])
    problem = LayerProblem(layer, layer.arguments())
    assert list(problem.params) == ["x"] and problem.fixed == {"w": "named fixed", "mask": "a mask"}
    with pytest.raises(InvalidArgumentError, match=r"fixed: names \['v'\], which are not arguments"):
        LayerProblem(make_layer(masked_forward, None, [x, w, mask], fixed=["v"]), {"x": x, "w": w, "mask": mask})


def _named(problem):
    outputs, cache = problem.outputs(problem.run_forward())
    problem.draw_upstream(outputs)
    grads = problem.named(problem.run_backward(cache))
    return grads


def test_a_dicts_gradients_are_named_by_key_and_weights_without_one_stay_fixed():
    problem = _problem("rnn_cell")
    grads = _named(problem)
    assert list(grads) == ["xt", "a_prev", "Wax", "Waa", "ba"] == list(problem.params)
    assert problem.fixed == {"Wya": "gets no gradient from rnn_cell_backward",
                             "by": "gets no gradient from rnn_cell_backward"}
    assert problem.names.notes == ["Wya, by in parameters get no gradient from rnn_cell_backward: left "
                                   "fixed, not checked"]


def test_an_lstm_step_takes_two_upstream_gradients_and_returns_six_named_ones():
    problem = _problem("lstm_step")
    grads = _named(problem)
    assert len(problem.douts) == 2 and list(grads) == ["x", "prev_h", "prev_c", "Wx", "Wh", "b"]
    assert upstream_count(course_layers.lstm_step_backward) == 2
    assert returned_names(course_layers.lstm_step_backward) == ["dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"]


def test_gradients_returned_out_of_order_are_named_and_said_so():
    def affine_backward(dout, cache):
        dx, dw, db = course_layers.affine_backward(dout, cache)
        return dw, dx, db
    problem = LayerProblem(make_layer(course_layers.affine_forward, affine_backward), _problem("affine").args)
    grads = _named(problem)
    assert grads["x"].shape == problem.params["x"].shape and grads["w"].shape == problem.params["w"].shape
    assert "returns dw, dx, db, not in the forward's order (x, w, b): checked by name" in problem.names.notes[0]


def test_a_key_that_matches_no_argument_is_named_with_the_one_meant():
    def rnn_cell_backward(da_next, cache):
        grads = dict_style.rnn_cell_backward(da_next, cache)
        grads["dWxa"] = grads.pop("dWax")
        return grads
    problem = LayerProblem(make_layer(dict_style.rnn_cell_forward, rnn_cell_backward, name="rnn_cell"),
                           _problem("rnn_cell").args)
    with pytest.raises(InvalidArgumentError, match=r"rnn_cell_backward: returned gradients 'dWxa' \(did you "
                       r"mean 'dWax'\?\) that match no float argument of rnn_cell_forward"):
        _named(problem)


def affine_backward_without_db(dout, cache):
    x, w, b = cache
    dx, dw = dout @ w.T, x.T @ dout
    return dx, dw


def affine_backward_unnamed(dout, cache):
    x, w, b = cache
    return tuple([dout @ w.T, x.T @ dout])


def affine_backward_returning_nothing(dout, cache):
    x, w, b = cache
    x.T @ dout  # noqa: B018 - the result is never returned


@pytest.mark.parametrize(("backward", "said"), [
    (affine_backward_without_db, r"gives no gradient for b, float argument of affine_forward \(it returned dx, dw\)"),
    (affine_backward_unnamed, r"returned 2 gradients for the 3 float arguments of affine_forward \(x, w, b\), "
     r"and their names do not say which is which"),
    (affine_backward_returning_nothing, r"returned None, expected the gradients of the forward's float "
     r"arguments \(x, w, b\)"),
])
def test_a_backward_that_leaves_an_argument_out_says_which(backward, said):
    problem = LayerProblem(make_layer(course_layers.affine_forward, backward), {
        "x": np.ones((2, 3)), "w": np.ones((3, 4)), "b": np.ones(4)})
    with pytest.raises(InvalidArgumentError, match=said):
        _named(problem)


def test_a_dict_backward_missing_an_argument_names_it():
    def rnn_cell_backward(da_next, cache):
        grads = dict_style.rnn_cell_backward(da_next, cache)
        del grads["da_prev"]
        return grads
    problem = LayerProblem(make_layer(dict_style.rnn_cell_forward, rnn_cell_backward, name="rnn_cell"),
                           _problem("rnn_cell").args)
    with pytest.raises(InvalidArgumentError, match="gives no gradient for a_prev, float argument of rnn_cell_forward"):
        _named(problem)


def test_a_losss_float_targets_get_no_gradient_and_stay_fixed():
    def mse_loss(x, t):
        loss = np.mean((x - t) ** 2)
        dx = 2 * (x - t) / x.size
        return loss, dx
    rng = np.random.default_rng(0)
    layer = make_layer(mse_loss, None, [rng.normal(size=(4, 3)), rng.normal(size=(4, 3))])
    problem = LayerProblem(layer, layer.arguments())
    assert list(_named(problem)) == ["x"] and problem.fixed == {"t": "gets no gradient from mse_loss"}


@pytest.mark.parametrize(("forward", "said"), [
    (lambda x: x, r"returned ndarray, expected \(out, cache\)"),
    (lambda x: (x.astype(int), x), "returned dtype int64 as output 1, expected a float array"),
])
def test_a_forward_that_does_not_return_outputs_and_a_cache_says_so(forward, said):
    layer = make_layer(forward, course_layers.relu_backward, [np.ones((2, 3))], name="relu")
    problem = LayerProblem(layer, layer.arguments())
    with pytest.raises(InvalidArgumentError, match=said):
        problem.outputs(problem.run_forward())


def test_a_loss_that_returns_only_the_loss_says_a_loss_layer_returns_its_gradient():
    layer = make_layer(lambda x, y: float(np.sum(x)), None, [np.ones((2, 3)), np.array([0, 1])], name="sum_loss")
    problem = LayerProblem(layer, layer.arguments())
    with pytest.raises(InvalidArgumentError, match=r"expected \(loss, dx\)"):
        problem.outputs(problem.run_forward())


def test_a_loss_returning_only_its_value_is_not_a_layer_to_check():
    def l2_loss(w, reg):
        return reg * np.sum(w * w)

    def hinge_loss(x, y):
        if x.ndim != 2:
            return 0.0, None
        return float(np.sum(x)), np.ones_like(x)
    found = discover(namespace(l2_loss=l2_loss, hinge_loss=hinge_loss))
    assert [layer.name for layer in found] == ["hinge_loss"]


def test_two_layers_of_one_name_get_two_checks():
    layers = function_layers(course_layers, "conv", "conv_forward_naive").function_layers
    assert [layer.name for layer in layers] == ["conv", "conv_2"]


def loss_forward(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean(), (log_p, y)


def loss_backward(dloss, cache):
    log_p, y = cache
    dx = np.exp(log_p)
    dx[np.arange(len(y)), y] -= 1
    return dloss * dx / len(y)


def test_a_pair_whose_forward_returns_a_number_gets_a_number_upstream():
    rng = np.random.default_rng(0)
    result = gradcheck.check_function_layer(loss_forward, loss_backward, rng.normal(size=(4, 3)),
                                            np.array([0, 2, 1, 2]))
    assert result.passed and [p.name for p in result.params] == ["x"]
