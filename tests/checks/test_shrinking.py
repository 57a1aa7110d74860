"""Shrinking: a layer failure with no cause named is checked again at smaller sizes, and the size
that makes the error vanish names the cause; a gradient copied from another parameter's is a
missing factor. Each named where it holds, and nothing named where it must not be."""

from __future__ import annotations

import numpy as np
import pytest

import gradcheck
from gradcheck.adapters.function_pairs import make_layer
from gradcheck.adapters.layer_examples import SMALLER, smaller_arguments
from gradcheck.checks.shrinking import size_story
from gradcheck.checks.structure import Gradient, copied, structural_story
from gradcheck.numeric.model import agree
from tests.corpus.layers import buggy_layers as bl
from tests.corpus.layers import course_layers as cl

RNG = np.random.default_rng(3)


def _failures(result) -> dict:
    return {f.subject: f for f in result.findings if f.is_failure}


def _check(forward, backward, kind):
    return gradcheck.check_function_layer(make_layer(forward, backward, name=kind))


# ---- the rule ------------------------------------------------------------------------------

@pytest.mark.parametrize("removes, others_pass, kind, how", [
    ("steps", False, "missing_term", "through_time"),
    ("steps", True, "accumulation", "not_accumulated"),
    ("positions", True, "accumulation", "not_accumulated"),
    ("repeats", False, "accumulation", "not_accumulated"),
    ("repeats", True, "accumulation", "not_accumulated"),
    ("kernel", False, "orientation", "kernel"),
    ("channels", True, "orientation", "channels"),
])
def test_what_an_error_vanishing_at_a_smaller_size_names(removes, others_pass, kind, how):
    story = size_story("W", removes, "a smaller size", others_pass=others_pass)
    assert story.kind == kind and story.data["how"] == how


@pytest.mark.parametrize("removes, others_pass", [
    # several positions and examples: with every other argument wrong too, the upstream gradient
    # itself may be wrong, so "not added up" is not decided
    ("positions", False),
    # windows that overlap: an error gone once they do not says no cause by itself
    ("overlap", True),
])
def test_a_vanishing_that_decides_nothing_names_nothing(removes, others_pass):
    assert size_story("W", removes, "a smaller size", others_pass=others_pass) is None


def test_every_smaller_version_has_its_kinds_arguments_and_takes_away_something_known():
    from gradcheck.adapters.layer_examples import REMOVALS, default_arguments, expected_arguments
    for kind, versions in SMALLER.items():
        names = expected_arguments(kind)
        full = default_arguments(kind, names, seed=0, dtype=np.float64)
        for smaller, args in smaller_arguments(kind, names, seed=0, dtype=np.float64):
            assert smaller.removes in REMOVALS and list(args) == names
            # smaller, never larger, in some float argument
            sizes = [(np.size(args[n]), np.size(full[n])) for n in names if isinstance(full[n], np.ndarray)]
            assert all(a <= b for a, b in sizes) and any(a < b for a, b in sizes), kind
        assert len(smaller_arguments(kind, names, seed=0, dtype=np.float64)) == len(versions)


# ---- on layers -----------------------------------------------------------------------------

def test_a_gradient_dropped_between_time_steps_is_the_recurrent_term():
    failures = _failures(_check(cl.rnn_forward, bl.rnn_backward_b1, "rnn"))
    assert set(failures) == {"x", "h0", "Wx", "Wh", "b"}
    assert {(f.kind, f.data["how"]) for f in failures.values()} == {("missing_term", "through_time")}


def test_a_weight_assigned_at_each_step_is_contributions_not_added_up():
    failures = _failures(_check(cl.rnn_forward, bl.rnn_backward_b2, "rnn"))
    assert set(failures) == {"Wh"}
    assert failures["Wh"].kind == "accumulation" and failures["Wh"].data["removed"] == "steps"


def test_a_bias_assigned_at_each_step_of_an_lstm_is_contributions_not_added_up():
    failures = _failures(_check(cl.lstm_forward, bl.lstm_backward_b2, "lstm"))
    assert failures["b"].kind == "accumulation"


def test_an_embedding_that_loses_a_repeated_word_is_contributions_not_added_up():
    failures = _failures(_check(cl.word_embedding_forward, bl.word_embedding_backward_b1, "word_embedding"))
    assert failures["W"].kind == "accumulation" and failures["W"].data["removed"] == "repeats"


def test_a_conv_weight_assigned_at_each_window_is_contributions_not_added_up():
    failures = _failures(_check(cl.conv_forward_naive, bl.conv_backward_naive_b3, "conv"))
    assert failures["w"].kind == "accumulation" and failures["w"].data["removed"] == "positions"


def test_a_conv_input_gradient_through_a_flipped_filter_is_the_kernels_orientation():
    failures = _failures(_check(cl.conv_forward_naive, bl.conv_backward_naive_b4, "conv"))
    assert failures["x"].kind == "orientation" and failures["x"].data["how"] == "kernel"


def test_a_max_sending_its_gradient_to_the_whole_window_shows_once_windows_do_not_overlap():
    failures = _failures(_check(cl.max_pool_forward_naive, bl.max_pool_backward_naive_b1, "max_pool"))
    assert failures["x"].kind == "routing" and failures["x"].data["seen_with"].startswith("2x2 windows")


def test_a_spatial_batchnorm_reshaped_without_its_transpose_is_the_channel_axis():
    failures = _failures(_check(cl.spatial_batchnorm_forward, bl.spatial_batchnorm_backward_b1,
                                "spatial_batchnorm"))
    assert failures["x"].kind == "orientation" and failures["x"].data["how"] == "channels"
    # gamma and beta have one entry each with one channel: too few to say the error vanished
    assert {failures[n].kind for n in ("gamma", "beta")} == {"mismatch"}


def rnn_backward_dwh_off_by_a_fixed_matrix(dh, cache):
    """A recurrent weight's gradient wrong at every size, one time step included."""
    dx, dh0, dWx, dWh, db = cl.rnn_backward(dh, cache)
    return dx, dh0, dWx, dWh + 0.3 * np.sin(np.arange(dWh.size)).reshape(dWh.shape), db


def test_an_error_that_stays_at_one_time_step_is_not_called_the_recurrent_term():
    failures = _failures(_check(cl.rnn_forward, rnn_backward_dwh_off_by_a_fixed_matrix, "rnn"))
    assert set(failures) == {"Wh"} and failures["Wh"].kind == "mismatch"


@pytest.mark.parametrize("mode", ["sample", "directional"])
def test_a_weight_assigned_at_each_step_is_not_called_the_recurrent_term_in_other_modes(mode):
    result = gradcheck.check_function_layer(make_layer(cl.rnn_forward, bl.rnn_backward_b2, name="rnn"),
                                            mode=mode)
    assert {f.kind for f in result.findings if f.is_failure} <= {"mismatch", "accumulation"}


def test_a_layer_checked_on_arguments_of_its_own_is_not_shrunk():
    args = [RNG.standard_normal((2, 3, 3)), RNG.standard_normal((2, 4)), 0.4 * RNG.standard_normal((3, 4)),
            0.4 * RNG.standard_normal((4, 4)), 0.1 * RNG.standard_normal(4)]
    result = gradcheck.check_function_layer(cl.rnn_forward, bl.rnn_backward_b2, *args)
    assert {f.kind for f in result.findings if f.is_failure} == {"mismatch"}


def test_a_correct_layer_is_not_rechecked_and_passes():
    assert _check(cl.rnn_forward, cl.rnn_backward, "rnn").passed


# ---- a gradient copied from another parameter's ----------------------------------------------

def _gradient(analytic, numeric, peer_gradients, rtol=1e-7, atol=1e-10):
    analytic, numeric = np.asarray(analytic, float), np.asarray(numeric, float)
    return Gradient("gamma", analytic, numeric, np.ones(analytic.shape, dtype=bool),
                    agree(analytic, numeric, rtol, atol), None, rtol, atol, {}, peer_gradients)


def test_a_gradient_equal_to_another_parameters_is_a_missing_factor():
    dbeta, dgamma = RNG.normal(size=6), RNG.normal(size=6)
    story = structural_story(_gradient(dbeta.copy(), dgamma, {"gamma": dbeta.copy(), "beta": dbeta}))
    assert story.kind == "missing_term" and story.data == {"how": "copied", "from": "beta"}


def test_a_right_gradient_that_equals_another_is_not_a_copy():
    # two parameters may have the same right gradient (a bias added twice): nothing is wrong
    same = RNG.normal(size=6)
    assert copied(_gradient(same, same, {"beta": same.copy()})) is None


def test_a_gradient_close_to_another_but_not_equal_is_not_a_copy():
    dbeta, dgamma = RNG.normal(size=6), RNG.normal(size=6)
    assert copied(_gradient(dbeta * 1.01, dgamma, {"beta": dbeta})) is None
