"""check_function_layer on the course-layer corpus: every correct layer passes in float64 and
float32, on the kind's own example arguments and on the corpus's; every bug fails on exactly the
arguments it declares; precision follows what the forward computes; the user's arrays and NumPy's
global random state are left as they were."""

from __future__ import annotations

import numpy as np
import pytest

import gradcheck
from gradcheck.adapters import function_layer
from gradcheck.adapters.function_pairs import find_layer, make_layer
from gradcheck.errors import UserCodeError
from tests.corpus.layers import course_layers, dict_style
from tests.corpus.layers.catalogue import BUGS, LAYERS

DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
#: Bugs whose diagnosis names a cause other than "mismatch" (scale, sign, shape, reduction, zero),
#: measured on this path: a floor, so a better diagnosis passes and a worse one fails.
NAMED_CAUSES_AT_LEAST = 39


def _failing_kinds(result) -> set[str]:
    return {f.kind for f in result.findings if f.is_failure}


@DTYPES
@pytest.mark.parametrize("kind", list(LAYERS))
def test_a_correct_layer_passes_on_its_kinds_example_arguments(kind, dtype):
    layer = find_layer(course_layers, kind) or find_layer(dict_style, kind)
    result = gradcheck.check_function_layer(layer, dtype=dtype)
    assert result.passed, str(result)
    assert result.dtype == np.dtype(dtype).name
    assert {p.name for p in result.params} == set(LAYERS[kind].differentiable)


@DTYPES
@pytest.mark.parametrize("kind", list(LAYERS))
def test_a_correct_layer_passes_on_the_corpus_arguments_given_as_a_call(kind, dtype):
    layer = LAYERS[kind]
    args = layer.example_args(5, dtype)
    result = gradcheck.check_function_layer(layer.forward, layer.backward, *args.values(), seed=5)
    assert result.passed, str(result)


@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_a_bug_fails_on_exactly_the_arguments_it_declares(bug):
    result = gradcheck.check_function_layer(make_layer(bug.forward, bug.backward, name=bug.kind))
    assert set(result.failed) == set(bug.wrong), str(result)
    on_corpus_args = gradcheck.check_function_layer(
        bug.forward, bug.backward, *LAYERS[bug.kind].example_args(0, np.float64).values())
    assert set(on_corpus_args.failed) == set(bug.wrong), str(on_corpus_args)


def test_the_share_of_bugs_whose_diagnosis_names_a_cause():
    named = [bug.name for bug in BUGS if _failing_kinds(gradcheck.check_function_layer(
        make_layer(bug.forward, bug.backward, name=bug.kind))) - {"mismatch"}]
    assert len(named) >= NAMED_CAUSES_AT_LEAST, named


def test_a_bug_in_float32_is_still_found():
    bug = next(b for b in BUGS if b.name == "lstm-step-dprev-c-missing-forget-gate")
    result = gradcheck.check_function_layer(make_layer(bug.forward, bug.backward, name=bug.kind),
                                            dtype=np.float32)
    assert result.failed == ["prev_c"]


def test_the_callers_arrays_are_left_as_they_were():
    args = LAYERS["batchnorm"].example_args(0, np.float64)
    before = {name: (value.copy() if isinstance(value, np.ndarray) else dict(value))
              for name, value in args.items()}
    gradcheck.check_function_layer(course_layers.batchnorm_forward, course_layers.batchnorm_backward,
                                   *args.values())
    for name, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(args[name], value)
        else:  # the settings dict: no running statistics written into the caller's bn_param
            assert args[name] == value


# -- precision: what the forward computes ---------------------------------------------------------

def affine_forward_in_float32(x, w, b):
    """A forward that builds float32 buffers whatever it is given."""
    out = np.zeros((x.shape[0], w.shape[1]), dtype=np.float32)
    out[:] = x.reshape(x.shape[0], -1) @ w + b
    return out, (x.astype(np.float32), w.astype(np.float32), b)


def affine_backward_in_float32(dout, cache):
    return course_layers.affine_backward(dout, cache)


def affine_backward_in_float32_db_halved(dout, cache):
    dx, dw, db = course_layers.affine_backward(dout, cache)
    return dx, dw, db / 2


def test_a_layer_that_computes_in_float32_is_judged_as_float32():
    result = gradcheck.check_function_layer(
        make_layer(affine_forward_in_float32, affine_backward_in_float32, name="affine"))
    assert result.passed, str(result)
    assert result.dtype == "float32"
    assert any("computes in float32" in note for note in result.notes)
    assert not any(f.data.get("not_read") for f in result.findings)


def test_a_bug_in_a_layer_that_computes_in_float32_is_found():
    result = gradcheck.check_function_layer(
        make_layer(affine_forward_in_float32, affine_backward_in_float32_db_halved, name="affine"))
    assert result.failed == ["b"] and "scale" in result["b"].failing_kinds


# -- random masks, crashes -------------------------------------------------------------------------

def dropout_forward_unseeded(x, dropout_param):
    """Inverted dropout drawing its mask from NumPy's global state, no seed of its own."""
    p = dropout_param["p"]
    mask = (np.random.rand(*x.shape) < p) / p  # noqa: NPY002 - as course code does
    return x * mask, mask


def dropout_backward_unseeded(dout, cache):
    return dout * cache


def test_a_dropout_drawing_from_numpys_global_state_gets_the_same_mask_at_every_call():
    np.random.seed(42)  # noqa: NPY002
    state = np.random.get_state()  # noqa: NPY002
    result = gradcheck.check_function_layer(make_layer(dropout_forward_unseeded, dropout_backward_unseeded,
                                                       name="dropout"))
    assert result.passed, str(result)
    after = np.random.get_state()  # noqa: NPY002
    assert after[2] == state[2] and np.array_equal(after[1], state[1])


def relu_backward_raising(dout, cache):
    x = cache
    return dout @ (x > 0)


def test_a_backward_that_raises_fails_the_check_at_its_line():
    result = gradcheck.check_function_layer(course_layers.relu_forward, relu_backward_raising)
    [finding] = [f for f in result.findings if f.kind == "exception"]
    assert not result.passed and finding.subject == "backward"
    assert finding.data["function"] == "relu_backward_raising" and finding.data["error_type"] == "ValueError"


def test_a_forward_that_raises_on_the_example_arguments_is_an_error():
    def relu_forward(x):
        raise RuntimeError("not yet written")
    with pytest.raises(UserCodeError, match="forward function raised RuntimeError: not yet written"):
        gradcheck.check_function_layer(relu_forward, course_layers.relu_backward)


def test_a_single_layer_target_is_taken_as_it_is():
    target = function_layer(course_layers.svm_loss)
    assert gradcheck.check_function_layer(target).passed


# -- the sandwich layers a course builds from its layers ---------------------------------------------

def affine_relu_forward(x, w, b):
    a, fc_cache = course_layers.affine_forward(x, w, b)
    out, relu_cache = course_layers.relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    return course_layers.affine_backward(course_layers.relu_backward(dout, relu_cache), fc_cache)


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    a, conv_cache = course_layers.conv_forward_naive(x, w, b, conv_param)
    s, relu_cache = course_layers.relu_forward(a)
    out, pool_cache = course_layers.max_pool_forward_naive(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache):
    conv_cache, relu_cache, pool_cache = cache
    ds = course_layers.max_pool_backward_naive(dout, pool_cache)
    return course_layers.conv_backward_naive(course_layers.relu_backward(ds, relu_cache), conv_cache)


def affine_bn_relu_forward(x, w, b, gamma, beta, bn_param):
    a, fc_cache = course_layers.affine_forward(x, w, b)
    n, bn_cache = course_layers.batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = course_layers.relu_forward(n)
    return out, (fc_cache, bn_cache, relu_cache)


def affine_bn_relu_backward(dout, cache):
    fc_cache, bn_cache, relu_cache = cache
    dn = course_layers.relu_backward(dout, relu_cache)
    da, dgamma, dbeta = course_layers.batchnorm_backward(dn, bn_cache)
    dx, dw, db = course_layers.affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta


@DTYPES
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("forward", "backward"), [
    (affine_relu_forward, affine_relu_backward), (conv_relu_pool_forward, conv_relu_pool_backward),
    (affine_bn_relu_forward, affine_bn_relu_backward)], ids=["affine_relu", "conv_relu_pool", "affine_bn_relu"])
def test_a_sandwich_layer_gets_arguments_of_its_own_and_passes(forward, backward, seed, dtype):
    result = gradcheck.check_function_layer(forward, backward, seed=seed, dtype=dtype)
    assert result.passed, str(result)
