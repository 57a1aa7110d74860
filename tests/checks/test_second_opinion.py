"""An entry is called wrong only on evidence: next to kinks in float32, a second opinion first.

The book's helper makes a whole program float32 (its product casts back), so no float64 copy can
judge its network: a correct 5-64-3 ReLU network whose hidden units sit within float32's step of
their kinks must pass on float32's numbers alone, and its bugs must still fail.
"""

import numpy as np
import pytest

from gradcheck.checks.entries import _one_unit
from gradcheck.engine import check_target_gradients
from tests.corpus.book_program import book_float32_program
from tests.corpus.networks import batch

#: (seed, batch size) of the configurations whose float32 check called one hidden unit's
#: entries wrong before the second opinion (e.g. W1[3, 45], analytic 0.00284, numeric 0.00266).
KINKED = [(0, 8), (1, 32), (2, 32), (6, 128), (7, 128)]


def _book(seed, n, bug=None):
    X, y = batch(n, seed, np.float32)
    return book_float32_program(seed, np.float32, X, y, bug=bug), X, y


@pytest.mark.parametrize("seed, n", KINKED)
def test_a_correct_float32_program_next_to_its_kinks_passes(seed, n):
    target, X, y = _book(seed, n)
    result = check_target_gradients(target, X, y, seed=seed)
    assert result.passed, str(result)
    assert not result.inconclusive  # most entries are judged; the rest are a note
    assert any("no float64 copy" in note for note in result.notes)


@pytest.mark.parametrize("bug, wrong", [("relu_mask_missing", {"W1", "b1"}),
                                        ("dinputs_not_divided_by_samples", {"W1", "b1", "W2", "b2"})])
@pytest.mark.parametrize("seed, n", KINKED[:3])
def test_its_bugs_still_fail_on_their_parameters(seed, n, bug, wrong):
    target, X, y = _book(seed, n, bug)
    result = check_target_gradients(target, X, y, seed=seed)
    assert set(result.failed) == wrong, str(result)


def test_one_units_entries_share_an_index():
    assert _one_unit((5, 64), np.array([1 * 64 + 7]))
    assert _one_unit((5, 64), np.array([1 * 64 + 7, 3 * 64 + 7]))  # column 7
    assert not _one_unit((5, 64), np.array([1 * 64 + 7, 3 * 64 + 8]))
    assert not _one_unit((5, 64), np.array([7, 8, 9]))
    assert not _one_unit((5, 64), np.array([], dtype=int))
