"""An error's problem and its fix read as two sentences."""

import pytest

from gradcheck.errors import InvalidArgumentError


@pytest.mark.parametrize("problem", ["got 3 rows but 4 labels", "got 3 rows but 4 labels."])
def test_the_fix_starts_a_new_sentence(problem):
    error = InvalidArgumentError("data", problem, "Save X and y of the same examples.")
    assert str(error).endswith("got 3 rows but 4 labels. Save X and y of the same examples.")


def test_a_problem_without_a_fix_is_left_as_written():
    assert str(InvalidArgumentError("data", "got 3 rows")).endswith("got 3 rows")
