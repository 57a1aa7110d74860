"""Known answers for the structural diagnoses: each relation named when it holds exactly, and
nothing named for gradients it does not explain (noise, a factor, the right gradient moved).

These pin the arithmetic (which kind, which axes, which numbers), not the wording.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.checks.diagnosis import diagnose_shape
from gradcheck.checks.structure import Gradient, reshaping, structural_story
from gradcheck.numeric.model import agree

RNG = np.random.default_rng(0)
NUMERIC = RNG.normal(size=(4, 5, 6))


def _gradient(analytic, numeric, values=None, peers=None, rtol=1e-7, atol=1e-10):
    analytic, numeric = np.asarray(analytic, float), np.asarray(numeric, float)
    checked = np.ones(analytic.shape, dtype=bool)
    return Gradient("x", analytic, numeric, checked, agree(analytic, numeric, rtol, atol),
                    values, rtol, atol, peers or {})


def _story(analytic, numeric, **options):
    return structural_story(_gradient(analytic, numeric, **options))


@pytest.mark.parametrize("analytic, how, axes", [
    (np.flip(NUMERIC, 2), "flip", [2]),
    (np.flip(NUMERIC, (1, 2)), "flip", [1, 2]),
])
def test_a_gradient_reversed_along_axes_is_an_orientation(analytic, how, axes):
    story = _story(analytic, NUMERIC)
    assert story.kind == "orientation" and story.data["how"] == how and story.data["axes"] == axes


def test_a_gradient_shifted_by_one_is_an_orientation_apart_from_the_edge():
    analytic = NUMERIC.copy()
    analytic[:, 1:, :] = NUMERIC[:, :-1, :]
    story = _story(analytic, NUMERIC)
    assert story.kind == "orientation" and story.data == {"how": "shift", "axes": [1], "by": [1]}


def test_a_gradient_passed_back_through_a_weight_not_its_transpose():
    W = RNG.normal(size=(5, 5)) + 3 * np.eye(5)
    upstream = RNG.normal(size=(4, 5))
    numeric, analytic = upstream @ W.T, upstream @ W
    story = _story(analytic, numeric, peers={"W": W})
    assert story.kind == "orientation" and story.data["how"] == "untransposed" and story.data["weight"] == "W"


def test_a_symmetric_weight_cannot_tell_a_missing_transpose():
    W = RNG.normal(size=(5, 5))
    W = W + W.T
    numeric = RNG.normal(size=(4, 5))
    assert _story(numeric + 0.3 * RNG.normal(size=(4, 5)), numeric, peers={"W": W}) is None


def test_a_mask_skipped_with_its_rescale_is_routing_with_the_factor():
    mask = RNG.random((5, 6)) < 0.5
    upstream = RNG.normal(size=(5, 6))
    numeric = upstream * mask / 0.5
    story = _story(upstream, numeric)
    assert story.kind == "routing" and story.data["factor"] == pytest.approx(0.5)


def test_values_moved_one_for_one_are_not_called_a_mask():
    numeric = np.zeros((4, 4))
    numeric[0, :] = [1.0, 2.0, 3.0, 4.0]
    analytic = np.zeros((4, 4))
    analytic[1, :] = numeric[0, :]
    story = _story(analytic, numeric)
    assert story is None or story.kind != "routing"


def test_one_entry_per_row_off_by_the_same_term():
    numeric = RNG.normal(size=(6, 5))
    analytic = numeric.copy()
    labels = RNG.integers(0, 5, size=6)
    analytic[np.arange(6), labels] += 1 / 6
    story = _story(analytic, numeric)
    assert story.kind == "label_term" and story.data["term"] == pytest.approx(1 / 6)


def test_one_entry_per_row_off_by_different_amounts_names_nothing():
    numeric = RNG.normal(size=(6, 5))
    analytic = numeric.copy()
    analytic[np.arange(6), RNG.integers(0, 5, size=6)] += RNG.uniform(0.1, 1.0, size=6)
    assert _story(analytic, numeric) is None


def test_a_term_through_a_mean_is_a_missing_term():
    numeric = RNG.normal(size=(5, 4))
    analytic = numeric + RNG.normal(size=(1, 4))   # the same at every position along axis 0
    story = _story(analytic, numeric)
    assert story.kind == "missing_term" and story.data == {"how": "mean", "axis": 0}


def test_a_ratio_that_follows_each_entrys_value_is_a_derivative():
    values = RNG.uniform(0.2, 2.0, size=(5, 4))
    numeric = RNG.normal(size=(5, 4))
    story = _story(numeric * values, numeric, values=values)
    assert story.kind == "derivative" and story.data["ratio_is_value"]


@pytest.mark.parametrize("analytic", [
    NUMERIC + 0.1 * RNG.normal(size=NUMERIC.shape),  # noise: no relation holds
    3.0 * NUMERIC,                                   # a factor: told by the scale diagnosis
], ids=["noise", "factor"])
def test_gradients_no_structure_explains_name_nothing(analytic):
    assert _story(analytic, NUMERIC) is None


@pytest.mark.parametrize("analytic_shape, param_shape, batch, how, aligned_shape", [
    ((2, 3, 7, 7), (2, 3, 5, 5), None, "crop", (2, 3, 5, 5)),      # padding left on
    ((4, 5), (5,), None, "sum", (5,)),                              # an axis not summed
    ((2, 3, 3, 4), (2, 3, 4, 3), None, "permute", (2, 3, 4, 3)),    # axes put back out of order
    ((3,), (5,), 3, "wrong_axis", None),                            # summed over the units
    ((1, 5), (4, 1), 5, "wrong_axis", None),
])
def test_what_a_gradients_shape_says(analytic_shape, param_shape, batch, how, aligned_shape):
    story = reshaping("b", analytic_shape, param_shape, batch)
    assert story.how == how
    aligned = story.align(np.zeros(analytic_shape))
    assert (aligned is None) if aligned_shape is None else aligned.shape == aligned_shape


def test_a_crop_keeps_the_centre():
    padded = np.arange(49.0).reshape(7, 7)
    assert np.array_equal(reshaping("x", (7, 7), (5, 5)).align(padded), padded[1:6, 1:6])


@pytest.mark.parametrize("analytic_shape, param_shape, batch", [
    ((3,), (5,), None),      # without the batch size nothing says which axis was summed
    ((6, 5), (4, 7), None),  # longer on one axis, shorter on another
    ((5, 5), (4, 5), None),  # longer by an odd amount: no padding on both sides
    ((2, 4, 6), (6, 4, 2), None),  # reversed: a transpose, told elsewhere
])
def test_shapes_that_say_nothing_decisive(analytic_shape, param_shape, batch):
    assert reshaping("b", analytic_shape, param_shape, batch) is None


def test_an_alignment_whose_values_disagree_claims_no_cause():
    mismatch = diagnose_shape("x", (6, 5), (4, 5))
    assert mismatch.how == "crop"
    confirmed, unconfirmed = mismatch.finding(values_right=True), mismatch.finding(values_right=False)
    assert "padding" in confirmed.hint and "padding" not in unconfirmed.hint
    assert unconfirmed.data["values_right"] is False


def test_contributions_written_at_swapped_positions_keep_each_slices_sum():
    # 3x3 windows, each max somewhere off the diagonal, its gradient sent to (column, row)
    rng = np.random.default_rng(1)
    numeric = np.zeros((2, 3, 6, 6))
    analytic = np.zeros((2, 3, 6, 6))
    off_diagonal = [(r, s) for r in range(3) for s in range(3) if r != s]
    for n in range(2):
        for c in range(3):
            for i in range(2):
                for j in range(2):
                    r, s = off_diagonal[rng.integers(len(off_diagonal))]
                    g = rng.uniform(0.5, 1.5)
                    numeric[n, c, 3 * i + r, 3 * j + s] = g
                    analytic[n, c, 3 * i + s, 3 * j + r] = g
    story = _story(analytic, numeric)
    assert story.kind == "orientation" and story.data["how"] == "moved"
    assert story.data["kept_axes"] == [0, 1] and story.data["moved_axes"] == [2, 3]
