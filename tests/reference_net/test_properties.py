"""Property tests on reference_net with gradcheck.strategies, and the checks' power to catch bugs.

Each @given test runs under the ``ci`` profile (tests/conftest.py): derandomised, 60 examples.
"""

import functools

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from gradcheck import strategies as gst
from gradcheck.checks.properties import (
    PropertyViolation,
    check_finite_for_large_logits,
    check_gradient_shapes,
    check_layer_shapes,
    check_loss_order_invariant,
    check_one_hot,
    check_output_shape,
    check_softmax_argmax_preserved,
    check_softmax_shift_invariant,
    check_softmax_sums_to_one,
)
from reference_net.activations import Softmax, log_softmax, sigmoid, softmax
from reference_net.layers import Dense
from tests.probes.broken import batch_normalised_softmax, naive_softmax


def reference_one_hot(y, n_classes=10):
    Y = np.zeros((n_classes, y.size))
    Y[y, np.arange(y.size)] = 1
    return Y


def blog_one_hot(y):
    """examples/blog_buggy.py's one_hot_encode: sized by y.max() + 1, classes x examples."""
    one_hot_y = np.zeros((y.size, y.max() + 1))
    one_hot_y[np.arange(y.size), y] = 1
    return one_hot_y.T


# --- softmax: any class axis of any shape --------------------------------------------------

@given(gst.logits(min_dims=1, max_dims=4), st.data())
def test_reference_softmax_sums_to_one_along_any_axis(Z, data):
    axis = data.draw(gst.class_axes(Z.ndim))
    check_softmax_sums_to_one(functools.partial(softmax, axis=axis), Z, axis=axis)


@given(gst.logits(min_dims=2, max_dims=3, max_magnitude=1e3), st.data())
def test_reference_softmax_is_shift_invariant_and_keeps_argmax(Z, data):
    axis = data.draw(gst.class_axes(Z.ndim))
    shape = list(Z.shape)
    shape[axis] = 1
    shift = data.draw(gst.logits(shape=tuple(shape), max_magnitude=1e3))
    fn = functools.partial(softmax, axis=axis)
    check_softmax_shift_invariant(fn, Z, shift, axis=axis)
    check_softmax_argmax_preserved(fn, Z, axis=axis)


@given(gst.logits(shape=(4, 10), max_magnitude=1e4, dtype=np.float32) | gst.logits(shape=(4, 10), max_magnitude=1e4))
def test_reference_functions_are_finite_for_large_logits(Z):
    check_finite_for_large_logits(softmax, Z)
    check_finite_for_large_logits(log_softmax, Z, subject="log_softmax")
    check_finite_for_large_logits(sigmoid, Z, subject="sigmoid")


# --- the checks catch the zoo, reliably ---------------------------------------------------

#: Tests that expect a failure skip shrinking: any failing example proves the check caught it.
catching = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])


def fails(test):
    """Run a @given test; return the findings of the violations Hypothesis reports ([] if none)."""
    try:
        test()
    except PropertyViolation as violation:
        return [violation.finding]
    except BaseException as group:  # several distinct failures arrive as an exception group
        found = [e.finding for e in getattr(group, "exceptions", ()) if isinstance(e, PropertyViolation)]
        if not found:
            raise
        return found
    return []


def test_sums_to_one_catches_batch_normalised_softmax():
    @catching
    @given(gst.logits(min_dims=2, max_dims=2))
    def prop(Z):
        check_softmax_sums_to_one(batch_normalised_softmax, Z)

    findings = fails(prop)
    assert findings and findings[0].kind == "not_normalized"
    assert "whole array" in findings[0].message


def test_finite_check_catches_naive_softmax():
    @catching
    @given(gst.logits(shape=(3, 4), max_magnitude=1e3))
    def prop(Z):
        check_finite_for_large_logits(naive_softmax, Z)

    findings = fails(prop)
    assert findings and {f.kind for f in findings} <= {"nonfinite", "overflow"}


@given(gst.label_batches(n_classes=10, max_size=20))
def test_reference_one_hot_is_right_for_any_batch(y):
    check_one_hot(reference_one_hot, y, n_classes=10, class_axis=0)


@pytest.mark.parametrize("missing", [1, 2, 5])
def test_one_hot_check_catches_the_blog_one_hot_whenever_top_classes_are_absent(missing):
    @given(gst.label_batches(n_classes=10, max_size=20, missing_classes=missing))
    def prop(y):
        with pytest.raises(PropertyViolation, match=r"y\.max\(\) \+ 1"):
            check_one_hot(blog_one_hot, y, n_classes=10, class_axis=0)

    prop()  # every drawn batch lacks the top class, so every one must be caught


def test_one_hot_check_finds_the_blog_bug_from_unconstrained_batches():
    @catching
    @given(gst.label_batches(n_classes=10, max_size=20))
    def prop(y):
        check_one_hot(blog_one_hot, y, n_classes=10, class_axis=0)

    findings = fails(prop)
    assert [f.kind for f in findings] == ["shape"]


@given(gst.label_batches(n_classes=6, missing_classes=2, all_present=True, max_size=12))
def test_label_batches_lack_exactly_the_top_classes(y):
    assert set(y.tolist()) == {0, 1, 2, 3}


# --- networks: shapes for any batch from 1 and any widths; order invariance --------------

@given(gst.mlp_problems(max_batch=8))
def test_reference_network_shape_contracts(problem):
    net = problem.network()
    check_output_shape(net, problem.X, n_outputs=problem.sizes[-1])
    check_gradient_shapes(net, problem.X, problem.y)


@given(gst.mlp_problems(output="sigmoid", max_batch=6) | gst.mlp_problems(output="linear", max_batch=6))
def test_reference_network_shape_contracts_other_outputs(problem):
    check_gradient_shapes(problem.network(), problem.X, problem.y)


@given(gst.mlp_problems(min_batch=2, max_batch=10, missing_classes=1), st.data())
def test_reference_loss_is_invariant_to_example_order(problem, data):
    perm = np.array(data.draw(st.permutations(range(problem.batch_size))))
    check_loss_order_invariant(problem.network().loss, problem.X, problem.y, perm)


@given(st.integers(1, 6), gst.layer_widths(min_layers=1, max_layers=1), st.integers(0, 2**16))
def test_dense_and_activation_layers_keep_shapes(n, sizes, seed):
    X = np.random.default_rng(seed).normal(size=(n, sizes[0]))
    dense = Dense(*sizes, rng=np.random.default_rng(seed))
    check_layer_shapes(dense, X, seed=seed)
    check_layer_shapes(Softmax(), dense.forward(X), seed=seed)


class SummedBiasDense(Dense):
    """db summed over every axis: a scalar where b is (n_out,)."""

    def backward(self, dZ):
        dX = super().backward(dZ)
        self.db = np.sum(dZ)
        return dX


def test_layer_shape_check_catches_a_bias_summed_over_everything():
    @catching
    @given(gst.layer_widths(min_layers=1, max_layers=1), st.integers(1, 5))
    def prop(sizes, n):
        check_layer_shapes(SummedBiasDense(*sizes), np.ones((n, sizes[0])))

    findings = fails(prop)
    assert [(f.kind, f.subject) for f in findings] == [("shape", "SummedBiasDense.b")]


def test_order_check_catches_a_loss_that_pairs_labels_with_the_wrong_examples():
    def loss(X, y):  # labels sorted, predictions not
        P = softmax(X)
        return float(-np.mean(np.log(P[np.arange(y.size), np.sort(y)])))

    @catching
    @given(gst.label_batches(n_classes=4, min_size=2, max_size=8), st.data())
    def prop(y, data):
        X = np.arange(y.size * 4, dtype=float).reshape(y.size, 4) % 3
        perm = np.array(data.draw(st.permutations(range(y.size))))
        check_loss_order_invariant(loss, X, y, perm)

    findings = fails(prop)
    assert findings and {f.kind for f in findings} == {"order_variance"}


# --- any target exposing the protocol ------------------------------------------------------

def blog_target(n_in):
    import gradcheck
    from examples.blog_buggy import backward_propagation, forward_propagation, init_params

    W1, b1, W2, b2 = init_params(n_in=n_in)
    return gradcheck.adapters.functional(
        {"W1": W1, "b1": b1, "W2": W2, "b2": b2},
        output=lambda p, X: forward_propagation(*p.values(), X)[3],
        gradients=lambda p, X, y: backward_propagation(*forward_propagation(*p.values(), X), p["W2"], X, y),
        layout="columns")


def test_gradient_shape_check_fails_the_blog_network_on_batches_missing_classes():
    target = blog_target(6)

    @catching
    @given(gst.label_batches(n_classes=10, max_size=12, missing_classes=1))
    def prop(y):
        X = np.random.default_rng(y.size).uniform(0, 1, size=(6, y.size))
        check_gradient_shapes(target, X, y)

    findings = fails(prop)  # the one-hot breaks broadcasting, or db comes back a scalar
    assert findings and {f.kind for f in findings} <= {"exception", "shape"}


def test_gradient_shape_check_names_the_blog_bias_reduction_even_with_every_class():
    y = np.arange(20) % 10
    X = np.random.default_rng(0).uniform(0, 1, size=(6, 20))
    with pytest.raises(PropertyViolation) as caught:
        check_gradient_shapes(blog_target(6), X, y)
    assert (caught.value.finding.kind, caught.value.finding.subject) == ("shape", "b1")


@given(gst.mlp_problems(max_batch=6))
def test_output_shape_holds_for_a_columns_target(problem):
    net = problem.network()

    class Columns:  # the same network seen with examples as columns
        layout = "columns"
        params = net.params

        def forward(self, X):
            return net.forward(X.T).T

    check_output_shape(Columns(), np.ascontiguousarray(problem.X.T), n_outputs=problem.sizes[-1])
